import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { DeviceIdentity } from '../device-types';
import { enrolDevices } from '../identities';
import { makeBrokerKey, ServedKeyFiles, type BrokerKey } from './drill-pki';
import { GatewayProcess } from './gateway-process';

/** What the drill is run with (main.ts flags; the test passes the same). */
export interface DrillOptions {
  /** Project root: where gateway/main.ts is. */
  readonly root: string;
  /** Everything of this run: keys, gateway data dir and log, device flash, drill.json. */
  readonly dataDir: string;
  readonly devices: number;
  /** Share of the fleet that is offline during the rollout (every (100/percent)-th device, so the choice is fixed). */
  readonly offlinePercent: number;
  readonly fleet: string;
  readonly deviceClass: string;
  /** The name devices know the broker by (their pin-set entry and the SNI), mapped to 127.0.0.1. */
  readonly brokerHost: string;
  /** Rotation readiness target, percent. */
  readonly target: number;
  /** Soak time of each rollout wave. */
  readonly soakMs: number;
  readonly workers: number;
  /** Device connects per second over the whole fleet. */
  readonly connectRate: number;
  /**
   * A running scale set-up to drill against instead of a gateway of its own: the drill target file
   * scripts/scale-local.ts writes (target-file.ts). Absent = the drill starts its own gateway.
   */
  readonly targetFile?: string;
}

export const DEFAULT_DRILL: Omit<DrillOptions, 'root' | 'dataDir'> = {
  devices: 1000, offlinePercent: 5, fleet: 'drill', deviceClass: 'sensor', brokerHost: 'mqtt.example.com',
  target: 95, soakMs: 1000, workers: 2, connectRate: 250,
};

/**
 * The devices that are offline during the rollout: every k-th device id (k = 100 / percent), the last of each
 * run of k, e.g. 5 % of 1,000 = drill-00019, drill-00039, … drill-00999. Deterministic, so tests can name them,
 * and spread over the id space (and so over the waves).
 */
export function pickOffline(ids: readonly string[], percent: number): string[] {
  if (percent <= 0) return [];
  const k = Math.max(1, Math.round(100 / percent));
  return ids.filter((_, i) => i % k === k - 1);
}

export interface DrillKeys {
  readonly k1: BrokerKey;
  readonly k2: BrokerKey;
  readonly backup: BrokerKey;
  /** The next "next" key of the guided rotation's second stage. */
  readonly k3: BrokerKey;
  /** An unannounced key someone installs by mistake (the drift finding). */
  readonly rogue: BrokerKey;
}

export async function makeDrillKeys(o: DrillOptions): Promise<DrillKeys> {
  const dir = join(o.dataDir, 'pki');
  return {
    k1: await makeBrokerKey(dir, 'K1', o.brokerHost),
    k2: await makeBrokerKey(dir, 'K2', o.brokerHost),
    backup: await makeBrokerKey(dir, 'B', o.brokerHost),
    k3: await makeBrokerKey(dir, 'K3', o.brokerHost),
    rogue: await makeBrokerKey(dir, 'R', o.brokerHost),
  };
}

/** Starts the gateway process serving `first` on MQTT/TLS. */
export async function startDrillGateway(o: DrillOptions, served: ServedKeyFiles, first: BrokerKey): Promise<GatewayProcess> {
  await served.install(first);
  return GatewayProcess.start({
    root: o.root,
    dataDir: join(o.dataDir, 'gateway'),
    certFile: served.certFile,
    keyFile: served.keyFile,
    logFile: join(o.dataDir, 'gateway.log'),
    env: {
      PINGW_ROLLOUT_TICK_MS: '250',
      PINGW_LIVE_CHECK_TIMEOUT_MS: '1000',
      // the drill's host name is not in DNS: the gateway's own probes (live check, drift watch) reach the broker
      // at 127.0.0.1 and present the name as SNI, as devices do; drift watch runs on demand only
      PINGW_PROBE_RESOLVE: `${o.brokerHost}=127.0.0.1`,
      PINGW_DRIFT_INTERVAL_MS: '0',
    },
  });
}

/** POST /api/devices for every simulated device (credentials cached in the data dir, as `npm run sim` does). */
export async function enrolDrillDevices(o: DrillOptions, apiUrl: string, token: string): Promise<DeviceIdentity[]> {
  await mkdir(o.dataDir, { recursive: true });
  return enrolDevices({
    api: apiUrl, token, count: o.devices, fleet: o.fleet, deviceClass: o.deviceClass,
    prefix: `${o.fleet}-`, cacheFile: join(o.dataDir, 'identities.json'),
  });
}

/** A pin-set draft for the broker entry (enforced, fail-open date far ahead: the drill happens before it). */
export function brokerPinSet(o: DrillOptions, pins: readonly string[], nowSec: number, port?: number): Record<string, unknown> {
  return {
    target: { fleet: o.fleet },
    // the port (SPEC §2 host key 5) is where the gateway's drift watch probes the broker
    hosts: [{ name: o.brokerHost, includeSubdomains: false, pins: [...pins], enforce: true, ...(port === undefined ? {} : { port }) }],
    failOpenAfter: nowSec + 180 * 86_400,
  };
}
