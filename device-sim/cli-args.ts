import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { NO_FAULTS, parseRejectCode, type FaultConfig } from './faults';

/** Command line of `device-sim/main.ts` (see docs/decisions-device-sim.md for the flags). */
export interface CliArgs {
  readonly devices: number;
  readonly fleet: string;
  readonly deviceClass: string;
  readonly mqtt: URL;
  readonly brokerHost: string;
  readonly ca?: string;
  readonly identities?: string;
  readonly api?: string;
  readonly token?: string;
  readonly prefix: string;
  readonly keyset: string;
  readonly factory?: string;
  readonly hosts: ReadonlyArray<readonly [string, string, number]>;
  readonly workers: number;
  readonly data: string;
  readonly connectRate: number;
  readonly durationSec?: number;
  readonly progressSec: number;
  readonly fsync: boolean;
  readonly keepaliveSec: number;
  readonly faults: FaultConfig;
}

export const USAGE = `usage: tsx device-sim/main.ts --devices N --fleet F --class C --mqtt mqtts://127.0.0.1:8883
    --keyset keyset.json [--factory factory.cose] [--broker-host mqtt.example.com] [--ca ca.pem]
    (--identities file.json | --api URL --token-file FILE [--prefix sim-]) [--workers 2] [--data ./data/sim]
    [--connect-rate 500] [--duration SECONDS] [--progress 5] [--host name=address:port ...] [--no-fsync]
    [--fault-offline RATE [--fault-offline-ms 30000]] [--fault-flapping RATE [--fault-flap-ms 10000]]
    [--fault-slow-apply RATE [--fault-slow-apply-ms 5000]] [--fault-reject RATE [--fault-reject-code E_WOULD_BRICK]]
    [--fault-crash RATE [--fault-crash-restart-ms 1000]] [--fault-clock-skew RATE [--fault-clock-skew-seconds 3600]]
    [--fault-corrupt-storage RATE] [--seed S]
  With --api, the API token comes from --token-file FILE or the SIM_API_TOKEN environment variable (never the
  command line, which every user of the machine can read in ps).`;

const num = (v: string | undefined, name: string, def: number, min = 0, max = Number.MAX_SAFE_INTEGER): number => {
  if (v === undefined) return def;
  const n = Number(v);
  if (!Number.isFinite(n) || n < min || n > max) throw new TypeError(`--${name} must be a number in ${min}..${max}, got "${v}"`);
  return n;
};
const rate = (v: string | undefined, name: string): number => num(v, name, 0, 0, 1);

/** The API token: from a file or the environment, never argv (visible to every user in ps / /proc). */
function apiToken(file: string | undefined, env: Readonly<Record<string, string | undefined>>): string | undefined {
  if (file !== undefined) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8').trim();
    } catch (e) {
      throw new TypeError(`--token-file ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    if (text === '') throw new TypeError(`--token-file ${file} is empty`);
    return text;
  }
  const t = env['SIM_API_TOKEN']?.trim();
  return t === undefined || t === '' ? undefined : t;
}

export function parseCli(argv: readonly string[], env: Readonly<Record<string, string | undefined>> = process.env): CliArgs {
  if (argv.some((a) => a === '--token' || a.startsWith('--token='))) {
    throw new TypeError('--token on the command line is visible to every user in ps: use --token-file FILE or SIM_API_TOKEN');
  }
  const s = { type: 'string' } as const;
  const { values: v } = parseArgs({
    args: [...argv],
    options: {
      devices: s, fleet: s, class: s, mqtt: s, 'broker-host': s, ca: s, identities: s, api: s, 'token-file': s, prefix: s,
      keyset: s, factory: s, host: { type: 'string', multiple: true }, workers: s, data: s, 'connect-rate': s,
      duration: s, progress: s, 'no-fsync': { type: 'boolean' }, keepalive: s, seed: s,
      'fault-offline': s, 'fault-offline-ms': s, 'fault-flapping': s, 'fault-flap-ms': s, 'fault-slow-apply': s,
      'fault-slow-apply-ms': s, 'fault-reject': s, 'fault-reject-code': s, 'fault-crash': s, 'fault-crash-restart-ms': s,
      'fault-clock-skew': s, 'fault-clock-skew-seconds': s, 'fault-corrupt-storage': s,
    },
    strict: true,
  });
  const need = (k: 'fleet' | 'class' | 'mqtt' | 'keyset'): string => {
    const x = v[k];
    if (x === undefined || x === '') throw new TypeError(`--${k} is required\n${USAGE}`);
    return x;
  };
  const mqtt = new URL(need('mqtt'));
  if (mqtt.protocol !== 'mqtts:') throw new TypeError('--mqtt must be an mqtts:// URL (devices pin the broker key over TLS)');
  const token = v.identities === undefined ? apiToken(v['token-file'], env) : undefined;
  if (v.identities === undefined && (v.api === undefined || token === undefined)) {
    throw new TypeError(`give --identities file.json, or --api URL with --token-file FILE (or SIM_API_TOKEN)\n${USAGE}`);
  }
  const hosts = (v.host ?? []).map((h) => {
    const m = /^([a-z0-9.-]+)=([^:]+):(\d+)$/i.exec(h);
    if (m === null) throw new TypeError(`--host must be name=address:port, got "${h}"`);
    return [(m[1] as string).toLowerCase(), m[2] as string, Number(m[3])] as const;
  });
  const d = NO_FAULTS;
  return {
    devices: num(v.devices, 'devices', 1, 1, 1_000_000),
    fleet: need('fleet'), deviceClass: need('class'), mqtt,
    brokerHost: (v['broker-host'] ?? mqtt.hostname).toLowerCase(),
    ...(v.ca !== undefined ? { ca: v.ca } : {}),
    ...(v.identities !== undefined ? { identities: v.identities } : {}),
    ...(v.api !== undefined ? { api: v.api } : {}),
    ...(token !== undefined ? { token } : {}),
    prefix: v.prefix ?? 'sim-', keyset: need('keyset'),
    ...(v.factory !== undefined ? { factory: v.factory } : {}),
    hosts, workers: num(v.workers, 'workers', 2, 1, 64), data: v.data ?? 'data/device-sim',
    connectRate: num(v['connect-rate'], 'connect-rate', 500, 1), progressSec: num(v.progress, 'progress', 5, 1),
    ...(v.duration !== undefined ? { durationSec: num(v.duration, 'duration', 0, 1) } : {}),
    fsync: v['no-fsync'] !== true, keepaliveSec: num(v.keepalive, 'keepalive', 60, 5, 65535),
    faults: {
      offline: rate(v['fault-offline'], 'fault-offline'), offlineMs: num(v['fault-offline-ms'], 'fault-offline-ms', d.offlineMs),
      flapping: rate(v['fault-flapping'], 'fault-flapping'), flapMs: num(v['fault-flap-ms'], 'fault-flap-ms', d.flapMs, 100),
      slowApply: rate(v['fault-slow-apply'], 'fault-slow-apply'), slowApplyMs: num(v['fault-slow-apply-ms'], 'fault-slow-apply-ms', d.slowApplyMs),
      reject: rate(v['fault-reject'], 'fault-reject'),
      rejectCode: v['fault-reject-code'] !== undefined ? parseRejectCode(v['fault-reject-code']) : d.rejectCode,
      crash: rate(v['fault-crash'], 'fault-crash'), crashRestartMs: num(v['fault-crash-restart-ms'], 'fault-crash-restart-ms', d.crashRestartMs),
      clockSkew: rate(v['fault-clock-skew'], 'fault-clock-skew'),
      clockSkewSeconds: num(v['fault-clock-skew-seconds'], 'fault-clock-skew-seconds', d.clockSkewSeconds),
      corruptStorage: rate(v['fault-corrupt-storage'], 'fault-corrupt-storage'),
      seed: v.seed ?? d.seed,
    },
  };
}
