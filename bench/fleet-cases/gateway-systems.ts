import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import mqtt from 'mqtt';
import type { DeviceIdentity } from '../../device-sim/device-types';
import { GatewayApi, type RolloutView } from '../../device-sim/drill/gateway-api';
import { GatewayProcess } from '../../device-sim/drill/gateway-process';
import { enrolDevices } from '../../device-sim/identities';
import { startScaleStack, type ScaleStack } from '../../scripts/scale-stack';
import { BROKER_HOST, FLEET, type BenchKeys } from './bare-systems';
import type { FleetSystem } from './fleet-run';
import { rate, secs } from './proc-stats';

export function gatewayEnv(rolloutRate: number): Record<string, string> {
  return {
    PINGW_ROLLOUT_TICK_MS: '250', // device credentials: the default `$7$` PBKDF2 form (issue 17), as Mosquitto's
    PINGW_ROLLOUT_RATE: String(rolloutRate), PINGW_ROLLOUT_BURST: String(rolloutRate), PINGW_LIVE_CHECK_TIMEOUT_MS: '1000',
  };
}

interface Enrolled {
  readonly identities: DeviceIdentity[];
  readonly enrolment: { seconds: number; devicesPerSec: number };
}

async function enrol(api: GatewayApi, token: string, n: number, dir: string): Promise<Enrolled> {
  const t0 = Date.now();
  const identities = await enrolDevices({
    api: api.baseUrl, token, count: n, fleet: FLEET, deviceClass: 'sensor', prefix: `${FLEET}-`, cacheFile: join(dir, 'identities.json'),
  });
  return { identities, enrolment: { seconds: secs(Date.now() - t0), devicesPerSec: rate(n, Date.now() - t0) } };
}

/** The part both gateway cases share: pin sets and the rollout through the API, progress from the registry. */
async function gatewaySystem(name: string, api: GatewayApi, port: number, keys: BenchKeys, e: Enrolled,
  processes: FleetSystem['processes'], dead: () => string | null, stop: () => Promise<void>): Promise<FleetSystem & { enrolment: Enrolled['enrolment'] }> {
  const failOpenAfter = () => Math.floor(Date.now() / 1000) + 180 * 86_400;
  const factory = await api.createPinSet({
    target: { fleet: FLEET }, failOpenAfter: failOpenAfter(),
    hosts: [{ name: BROKER_HOST, includeSubdomains: false, pins: [keys.k1.pin, keys.backup.pin], enforce: true }],
  });
  const keyset = (await api.keysets()).at(-1);
  if (keyset === undefined) throw new Error('the gateway has no keyset');
  const N = e.identities.length;
  let rolloutId: string | null = null;
  return {
    name, identities: e.identities, enrolment: e.enrolment,
    broker: { hostname: BROKER_HOST, address: '127.0.0.1', port },
    keyset: { version: keyset.version, publicKeys: keyset.publicKeys },
    factoryEnvelope: await api.envelopeOf(factory.id),
    processes,
    apiProbe: { what: `GET /api/fleets/${FLEET}/coverage`, call: () => api.coverage(FLEET) },
    settled: async () => {
      const row = (await api.coverage(FLEET)).find((r) => r.host === BROKER_HOST && r.pin === keys.k1.pin);
      return row?.verified === N && (await api.fleetOnline(FLEET)).online === N;
    },
    startRollout: async () => {
      const next = await api.createPinSet({
        target: { fleet: FLEET }, failOpenAfter: failOpenAfter(),
        hosts: [{ name: BROKER_HOST, includeSubdomains: false, pins: [keys.k1.pin, keys.k2.pin, keys.backup.pin], enforce: true }],
      });
      const r = await api.createRollout({
        pinsetId: next.id, plan: { waves: [{ name: 'all', limit: { percent: 100 } }] }, gates: { successPercent: 100, soakMs: 0 },
      });
      rolloutId = r.id;
      await api.rolloutAction(r.id, 'start');
    },
    progress: async () => {
      if (rolloutId === null) return { verified: 0, failed: 'no rollout' };
      const r: RolloutView = await api.rollout(rolloutId);
      const k = r.executions.byKind;
      const failed = k.REJECTED > 0 || k.TIMED_OUT > 0 || r.state.kind === 'PAUSED' || r.state.kind === 'ABORTED'
        ? `rollout ${r.id} went wrong: ${JSON.stringify(r.state)} ${JSON.stringify(k)}` : null;
      return { verified: k.VERIFIED, failed };
    },
    dead, stop,
  };
}

/** (b) the gateway on its embedded aedes broker (`npm start`), SQLite. */
export async function gatewayEmbedded(n: number, keys: BenchKeys, dir: string, rolloutRate: number): Promise<FleetSystem> {
  const gw = await GatewayProcess.start({
    root: join(import.meta.dirname, '../..'), dataDir: join(dir, 'gateway'), certFile: keys.k1.certFile, keyFile: keys.k1.keyFile,
    logFile: join(dir, 'gateway.log'), env: gatewayEnv(rolloutRate),
  });
  try {
    const api = new GatewayApi(gw.apiUrl, gw.adminToken);
    const e = await enrol(api, gw.adminToken, n, dir);
    return await gatewaySystem('gateway-embedded', api, gw.mqttsPort, keys, e, () => [{ role: 'gateway', pid: gw.pid }],
      () => (gw.running ? null : gw.tail()), () => gw.stop());
  } catch (err) {
    await gw.stop();
    throw err;
  }
}

/** Whether Mosquitto accepts a device's credential yet (the password file is rewritten + reloaded every 2 s). */
async function accepted(url: string, caPem: string, d: DeviceIdentity): Promise<boolean> {
  try {
    const c = await mqtt.connectAsync(url, {
      clientId: d.deviceId, username: d.deviceId, password: d.credential, reconnectPeriod: 0, protocolVersion: 4, connectTimeout: 5000,
      ca: caPem, servername: 'localhost',
    });
    await c.endAsync();
    return true;
  } catch {
    return false;
  }
}

/** (c) the gateway as replicas on PostgreSQL (primary + streaming read replica), devices on Mosquitto. */
export async function gatewayMosquittoPg(n: number, keys: BenchKeys, dir: string, rolloutRate: number, replicas: number): Promise<FleetSystem> {
  let stack: ScaleStack | undefined;
  try {
    stack = await startScaleStack({
      root: join(import.meta.dirname, '../..'), dir: join(dir, 'scale'), replicas, httpPort: 0,
      brokerTls: { certFile: keys.k1.certFile, keyFile: keys.k1.keyFile, caFile: keys.k1.certFile },
      gatewayEnv: gatewayEnv(rolloutRate),
    });
    const s = stack;
    const first = s.gateways[0] as GatewayProcess;
    const api = new GatewayApi(first.apiUrl, first.adminToken);
    const e = await enrol(api, first.adminToken, n, dir);
    const last = e.identities.at(-1) as DeviceIdentity;
    const caPem = readFileSync(keys.k1.certFile, 'utf8');
    const t0 = Date.now();
    while (!(await accepted(`mqtts://localhost:${s.mosquitto.devicePort}`, caPem, last))) {
      if (Date.now() - t0 > 60_000) throw new Error('mosquitto did not accept the last enrolled device within 60 s');
      await new Promise((r) => setTimeout(r, 200));
    }
    return await gatewaySystem(`gateway-mosquitto-pg-${replicas}r`, api, s.mosquitto.devicePort, keys, e,
      () => [{ role: 'broker', pid: s.mosquitto.pid }, ...s.gateways.map((g) => ({ role: 'gateway' as const, pid: g.pid }))],
      () => s.gateways.find((g) => !g.running)?.tail() ?? null, () => s.stop());
  } catch (err) {
    await stack?.stop();
    throw err;
  }
}
