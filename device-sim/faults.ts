import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { isReceiptCode, type ReceiptCode } from '../shared/index';

/**
 * Fault injection. Each fault has a rate in 0..1: the share of devices that carry the fault. The choice is a
 * deterministic function of (seed, deviceId, fault), so a run is reproducible and a device keeps its faults
 * across restarts (a flaky device stays flaky). docs/decisions-device-sim.md lists what each fault does.
 */
export interface FaultConfig {
  readonly offline: number;
  readonly offlineMs: number;
  readonly flapping: number;
  readonly flapMs: number;
  readonly slowApply: number;
  readonly slowApplyMs: number;
  readonly reject: number;
  readonly rejectCode: ReceiptCode;
  readonly crash: number;
  readonly crashRestartMs: number;
  readonly clockSkew: number;
  readonly clockSkewSeconds: number;
  readonly corruptStorage: number;
  readonly seed: string;
}

export const NO_FAULTS: FaultConfig = {
  offline: 0, offlineMs: 30_000,
  flapping: 0, flapMs: 10_000,
  slowApply: 0, slowApplyMs: 5_000,
  reject: 0, rejectCode: 'E_WOULD_BRICK',
  crash: 0, crashRestartMs: 1_000,
  clockSkew: 0, clockSkewSeconds: 3_600,
  corruptStorage: 0,
  seed: 'device-sim',
};

/** The faults one device carries (undefined = not this one). */
export interface DeviceFaults {
  /** Stay offline this long after boot before the first connect. */
  readonly offlineMs?: number;
  /** Drop the connection after a random uptime around this many ms, then reconnect. */
  readonly flapMs?: number;
  /** Wait this long between a passed check and the write (slow flash). */
  readonly slowApplyMs?: number;
  /** Refuse every update with this code (as if a check failed on the device). */
  readonly rejectCode?: ReceiptCode;
  /** Die after writing the temp file and before the rename, once; restart after this many ms. */
  readonly crashRestartMs?: number;
  /** Device clock offset in seconds (positive: ahead). */
  readonly clockSkewSeconds?: number;
  /** Flip bytes of the storage file before the first load. */
  readonly corruptStorage?: boolean;
}

/** A uniform number in [0, 1) from a hash: the same inputs always give the same value. */
export function unitHash(...parts: string[]): number {
  const h = createHash('sha256').update(parts.join('\0')).digest();
  return h.readUInt32BE(0) / 0x1_0000_0000;
}

export function faultsFor(deviceId: string, c: FaultConfig): DeviceFaults {
  const hit = (name: string, rate: number) => rate > 0 && unitHash(c.seed, deviceId, name) < rate;
  const sign = unitHash(c.seed, deviceId, 'skew-sign') < 0.5 ? -1 : 1;
  return {
    ...(hit('offline', c.offline) ? { offlineMs: c.offlineMs } : {}),
    ...(hit('flapping', c.flapping) ? { flapMs: c.flapMs } : {}),
    ...(hit('slowApply', c.slowApply) ? { slowApplyMs: c.slowApplyMs } : {}),
    ...(hit('reject', c.reject) ? { rejectCode: c.rejectCode } : {}),
    ...(hit('crash', c.crash) ? { crashRestartMs: c.crashRestartMs } : {}),
    ...(hit('clockSkew', c.clockSkew) ? { clockSkewSeconds: sign * c.clockSkewSeconds } : {}),
    ...(hit('corruptStorage', c.corruptStorage) ? { corruptStorage: true } : {}),
  };
}

/** A small seeded PRNG (mulberry32) for jitter that must not depend on Math.random in tests. */
export function prng(seed: string): () => number {
  let a = Math.floor(unitHash(seed) * 0x1_0000_0000) >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 0x1_0000_0000;
  };
}

export function parseRejectCode(text: string): ReceiptCode {
  if (!isReceiptCode(text)) throw new TypeError(`--fault-reject-code must be a SPEC §4 code, got "${text}"`);
  return text;
}

/** Thrown from the atomic write hook to simulate power loss between the temp file and the rename. */
export class SimulatedCrash extends Error {
  constructor() {
    super('simulated crash between receipt and persist');
  }
}

/** Flips bytes all over a file, as failing flash would (the corrupted-storage fault). */
export async function corruptFile(path: string): Promise<void> {
  const bytes = await readFile(path);
  for (let i = 20; i < bytes.length; i += 7) bytes[i] = (bytes[i] ?? 0) ^ 0x5a;
  await writeFile(path, bytes);
}
