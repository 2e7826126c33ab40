/**
 * What the drill drives: the gateway's API and the broker whose TLS key it rotates. Two kinds:
 *  - its own gateway (the default, docs/drill.md): a child process with the embedded broker, SIGHUP to the
 *    gateway switches the served key;
 *  - a running scale set-up (`--target FILE`, written by scripts/scale-local.ts): the replicas' API (any of them,
 *    the next one when the current one dies), devices on Mosquitto, whose device-listener key files the drill
 *    replaces and reloads with SIGHUP to Mosquitto. The original key is put back when the drill ends.
 */
import { copyFile, mkdir, readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { fetchServerPins, formatPin, pinFromCertificate } from '../../shared/index';
import { waitUntil } from '../wait-until';
import type { BrokerKey } from './drill-pki';
import { ServedKeyFiles } from './drill-pki';
import { startDrillGateway, type DrillOptions } from './drill-setup';
import { GatewayApi } from './gateway-api';
import { readDrillTarget } from './target-file';

export interface DrillTarget {
  readonly kind: 'own-gateway' | 'scale';
  readonly api: GatewayApi;
  readonly token: string;
  /** Where devices connect (MQTT over TLS). */
  readonly broker: { readonly address: string; readonly port: number };
  /** The timeline's line for the set-up, once it serves `label`. */
  startedText(label: string): string;
  readonly startedData: Record<string, unknown>;
  /** Who reloads the key, for the timeline: "SIGHUP to gateway pid 1106 (no restart)". */
  readonly reloadText: string;
  /** Installs `key` as the broker's served key and resolves once a new TLS handshake gets it. */
  serve(key: BrokerKey): Promise<void>;
  /** Stops what the drill started, puts back what it changed. Safe to call twice. */
  close(): Promise<void>;
}

async function servedPin(address: string, port: number, servername: string): Promise<string> {
  return formatPin((await fetchServerPins(address, port, { servername, timeoutMs: 5_000 })).leaf);
}

/** The default: a gateway process of the drill's own, serving `first` on its embedded broker. */
export async function ownGatewayTarget(o: DrillOptions, first: BrokerKey): Promise<DrillTarget> {
  const served = new ServedKeyFiles(join(o.dataDir, 'broker'));
  const gw = await startDrillGateway(o, served, first);
  const api = new GatewayApi(gw.apiUrl, gw.adminToken);
  return {
    kind: 'own-gateway', api, token: gw.adminToken,
    broker: { address: '127.0.0.1', port: gw.mqttsPort },
    startedText: (label) => `gateway started (pid ${gw.pid}, ${gw.apiUrl}/api, MQTT/TLS port ${gw.mqttsPort}) serving ${label}`,
    startedData: { pid: gw.pid, mqttsPort: gw.mqttsPort, served: await gw.servedPin(o.brokerHost) },
    reloadText: `SIGHUP to gateway pid ${gw.pid} (no restart)`,
    async serve(key) {
      await served.install(key);
      await gw.reloadTls(key.pin, o.brokerHost);
    },
    close: () => gw.stop(),
  };
}

/** Replaces a file by a copy of `from` in one rename: the broker never reads half a file. */
async function replaceFile(from: string, to: string): Promise<void> {
  const tmp = `${to}.drill-${process.pid}`;
  await copyFile(from, tmp);
  await rename(tmp, to);
}

/**
 * A running scale set-up described by `file` (target-file.ts). The drill enrols its devices through the API
 * (the replicas write Mosquitto's password file), connects them to Mosquitto's device listener, and rotates the
 * key of that listener only: the gateways' backend listener keeps the certificate they trust.
 */
export async function scaleTarget(o: DrillOptions, file: string, first: BrokerKey, onSwitch: (from: string, to: string, why: string) => void): Promise<DrillTarget> {
  const t = readDrillTarget(file);
  const token = (await readFile(t.adminTokenFile, 'utf8')).trim();
  const api = new GatewayApi(t.apiUrls, token, onSwitch);
  const b = t.broker;
  // the key the set-up served before the drill, put back at the end (other devices of the set-up validate it)
  const keep = join(o.dataDir, 'broker-before-drill');
  await mkdir(keep, { recursive: true, mode: 0o700 });
  const original = { certFile: join(keep, 'cert.pem'), keyFile: join(keep, 'key.pem') };
  await copyFile(b.deviceCertFile, original.certFile);
  await copyFile(b.deviceKeyFile, original.keyFile);
  const originalPin = formatPin(pinFromCertificate(await readFile(original.certFile, 'utf8')));
  const install = async (files: { certFile: string; keyFile: string }, pin: string) => {
    // key first: a reload between the two renames would find the new key with the old certificate for an instant
    await replaceFile(files.keyFile, b.deviceKeyFile);
    await replaceFile(files.certFile, b.deviceCertFile);
    process.kill(b.pid, 'SIGHUP'); // mosquitto(8): "will also reload certificate on receiving a SIGHUP"
    await waitUntil(`Mosquitto (pid ${b.pid}) to serve ${pin}`, async () => (await servedPin(b.host, b.devicePort, o.brokerHost)) === pin, 15_000);
  };
  let closed = false;
  const target: DrillTarget = {
    kind: 'scale', api, token,
    broker: { address: b.host, port: b.devicePort },
    startedText: (label) => `scale set-up from ${file}: ${t.apiUrls.length} replicas (${t.apiUrls.join(', ')}), devices on Mosquitto mqtts://${b.host}:${b.devicePort} (pid ${b.pid}), which now serves ${label} (SIGHUP)`,
    startedData: { apiUrls: t.apiUrls, devicePort: b.devicePort, mosquittoPid: b.pid, before: originalPin, served: first.pin },
    reloadText: `SIGHUP to Mosquitto pid ${b.pid} (no restart)`,
    serve: (key) => install(key, key.pin),
    async close() {
      if (closed) return;
      closed = true;
      await install(original, originalPin).catch(() => {}); // the set-up may be gone already
    },
  };
  await target.serve(first);
  return target;
}
