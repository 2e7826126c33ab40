import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import mqtt from 'mqtt';
import type { DeviceIdentity } from '../../device-sim/device-types';
import { formatPin, generateSignerKey, pinFromCertificate, pinSetFromJson, signPinSet, toBase64, toHex, type SignerKey } from '../../shared/index';
import { hashDeviceCredentialPbkdf2 } from '../../gateway/auth/device-credentials';
import { signalReload } from '../../gateway/external-broker/password-file';
import { startMosquitto } from '../../test/support/mosquitto';
import { forkBare, type BareProcess } from './bare-ipc';
import type { FleetSystem } from './fleet-run';

export const FLEET = 'bench';
export const BROKER_HOST = 'mqtt.example.com';

/** A broker key the bench serves: self-signed, names the devices' host and localhost (the gateway's backend URL). */
export interface BenchKey {
  readonly certFile: string;
  readonly keyFile: string;
  readonly pin: string;
}

export function makeBenchKey(dir: string, name: string): BenchKey {
  const certFile = join(dir, `${name}-cert.pem`);
  const keyFile = join(dir, `${name}-key.pem`);
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', keyFile, '-out', certFile,
    '-days', '30', '-subj', `/CN=${BROKER_HOST}`, '-addext', `subjectAltName=DNS:${BROKER_HOST},DNS:localhost,IP:127.0.0.1`,
  ], { stdio: ['ignore', 'ignore', 'pipe'] });
  return { certFile, keyFile, pin: formatPin(pinFromCertificate(readFileSync(certFile, 'utf8'))) };
}

export interface BenchKeys {
  readonly k1: BenchKey;
  readonly k2: BenchKey;
  readonly backup: BenchKey;
}

/** The bare cases sign their pin sets themselves, exactly as the gateway would (SPEC §2, §3): same hosts and pins. */
function signedSet(seq: number, pins: readonly string[], signer: SignerKey): string {
  const now = Math.floor(Date.now() / 1000);
  const p = pinSetFromJson({
    format: 1, seq, issuedAt: now, notAfter: now + 90 * 86_400, target: { fleet: FLEET }, keysetVersion: 1,
    hosts: [{ name: BROKER_HOST, includeSubdomains: false, pins: [...pins], enforce: true }], failOpenAfter: now + 180 * 86_400,
  });
  if (!p.ok) throw new Error(`bench pin set: ${p.error}`);
  return toBase64(signPinSet(p.value, signer));
}

function bareIdentities(n: number): DeviceIdentity[] {
  return Array.from({ length: n }, (_, i) => ({
    deviceId: `${FLEET}-${String(i).padStart(5, '0')}`, credential: randomBytes(32).toString('base64url'), fleet: FLEET, deviceClass: 'sensor',
  }));
}

/** The part both bare cases share: devices, keyset, envelopes, the publisher's progress. */
function bareSystem(name: string, port: number, keys: BenchKeys, identities: DeviceIdentity[], signer: SignerKey, backupSigner: SignerKey,
  publisher: () => BareProcess, processes: FleetSystem['processes'], apiProbe: FleetSystem['apiProbe'], stop: () => Promise<void>): FleetSystem {
  const update = signedSet(2, [keys.k1.pin, keys.k2.pin, keys.backup.pin], signer);
  return {
    name, identities, broker: { hostname: BROKER_HOST, address: '127.0.0.1', port },
    keyset: { version: 1, publicKeys: [toHex(signer.publicKey), toHex(backupSigner.publicKey)] },
    factoryEnvelope: signedSet(1, [keys.k1.pin, keys.backup.pin], signer),
    processes, apiProbe,
    settled: async () => true,
    startRollout: async () => publisher().publish(identities.map((d) => d.deviceId), update, 2, rolloutRate()),
    progress: async () => {
      const a = publisher().acks();
      const errors = publisher().errors;
      const failed = a.rejected > 0 ? `${a.rejected} devices rejected the update` : a.malformed > 0 ? `${a.malformed} malformed acks`
        : errors.length > 0 ? `publisher: ${errors.slice(0, 3).join('; ')}` : null;
      return { verified: a.verified, failed };
    },
    dead: () => null,
    stop,
  };
}

function rolloutRate(): number {
  return Number(process.env['FLEET_BENCH_ROLLOUT_RATE'] ?? 2000) || 2000;
}

/** Bare aedes (same version and options as the embedded broker) with an in-process publisher. */
export async function bareAedes(n: number, keys: BenchKeys, dir: string): Promise<FleetSystem> {
  const identities = bareIdentities(n);
  const credentialsFile = join(dir, 'bare-credentials.json');
  writeFileSync(credentialsFile, JSON.stringify(identities.map((d) => [d.deviceId, d.credential])), { mode: 0o600 });
  const bare = await forkBare('bare-aedes', { certFile: keys.k1.certFile, keyFile: keys.k1.keyFile, credentialsFile });
  return bareSystem('bare-aedes', bare.mqttsPort, keys, identities, generateSignerKey(), generateSignerKey(), () => bare,
    () => [{ role: 'bare', pid: bare.pid }],
    { what: 'GET /health on the bare broker\'s event loop', call: async () => (await fetch(`http://127.0.0.1:${bare.httpPort}/health`)).text() },
    () => bare.stop());
}

/** Bare Mosquitto (deploy/mosquitto, the password file holding every device) with a minimal MQTT publisher. */
export async function bareMosquitto(n: number, keys: BenchKeys): Promise<FleetSystem> {
  const identities = bareIdentities(n);
  const m = await startMosquitto({ tls: { certFile: keys.k1.certFile, keyFile: keys.k1.keyFile } });
  let publisher: BareProcess | undefined;
  try {
    const gw = { username: m.gatewayUser, password: randomBytes(32).toString('base64url') };
    const lines = [`${gw.username}:${await hashDeviceCredentialPbkdf2(gw.password)}`];
    for (const d of identities) lines.push(`${d.deviceId}:${await hashDeviceCredentialPbkdf2(d.credential)}`);
    writeFileSync(m.passwordFile, `${lines.join('\n')}\n`);
    signalReload(m.pidFile);
    const caPem = readFileSync(keys.k1.certFile, 'utf8');
    // the reload is through once the publisher's user is accepted
    for (let i = 0; ; i++) {
      try {
        const c = await mqtt.connectAsync(m.backendUrl, { username: gw.username, password: gw.password, ca: caPem, reconnectPeriod: 0, connectTimeout: 5000 });
        await c.endAsync();
        break;
      } catch (e) {
        if (i > 100) throw new Error(`mosquitto never accepted the publisher: ${String(e)}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    publisher = await forkBare('bare-mqtt-publisher', { url: m.backendUrl, caPem, ...gw });
  } catch (e) {
    await m.stop();
    throw e;
  }
  const p = publisher;
  return bareSystem('bare-mosquitto', m.devicePort, keys, identities, generateSignerKey(), generateSignerKey(), () => p,
    () => [{ role: 'broker', pid: m.pid }], null,
    async () => {
      await p.stop();
      await m.stop();
    });
}
