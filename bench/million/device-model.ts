import { createHash } from 'node:crypto';
import { claimedSeq } from '../../device-sim/claimed-seq';
import { checkReceipt, ed25519VerifyFast, encodeAck, encodeHello, envelopeSha256, parsePin, type DeviceState, type TrustedKeyset } from '../../shared/index';

/**
 * The devices of the million-device bench (issue 14 part 5), without sockets: what a device does with an update
 * envelope (SPEC §4 receipt check, signature through the fast strict verifier of shared/cose/ed25519-verify.ts,
 * as device-sim does), and the acks it answers with (SPEC §6). Runs in a worker thread (device-worker.ts) or in
 * the caller's thread (the test). Imports shared/ only: the gateway is reached through the transport.
 *
 * Fates, fixed by the device's index so a run is reproducible and the counts are exact:
 * - offline (5 %: index % 20 === 19): never connects, never says hello, never answers;
 * - rejecter (1 %: index % 100 === 50): reaches the pinned host, which serves a key the new set does not pin, so
 *   the real SPEC §4 check refuses the set with E_WOULD_BRICK;
 * - every other device applies the set, then (after the PUBACK of "applied") reports "verified".
 */
export type Fate = 'ok' | 'offline' | 'rejecter';

export function fateOf(index: number): Fate {
  if (index % 20 === 19) return 'offline';
  if (index % 100 === 50) return 'rejecter';
  return 'ok';
}

/** Counts of each fate among devices 0..n-1 (what a finished run must show). */
export function fateCounts(n: number): Record<Fate, number> {
  const c: Record<Fate, number> = { ok: 0, offline: 0, rejecter: 0 };
  for (let i = 0; i < n; i++) c[fateOf(i)] += 1;
  return c;
}

export const deviceIdOf = (index: number): string => `m${String(index).padStart(7, '0')}`;

/** Index of a bench device id, or -1 for an id this bench did not make. */
export function indexOf(deviceId: string): number {
  if (deviceId.length !== 8 || deviceId[0] !== 'm') return -1;
  const n = Number(deviceId.slice(1));
  return Number.isInteger(n) ? n : -1;
}

export interface FleetSpec {
  n: number;
  /**
   * 'full': every device verifies the signature itself (node:crypto through ed25519VerifyFast). 'memo': the
   * verify answer is memoised per exact (signature, message, key) — the same answer by definition — and every
   * other SPEC §4 check still runs per device; for runs that measure the gateway when the devices' CPU (a
   * million separate machines in a fleet) would otherwise be the bottleneck. The cost is reported either way.
   */
  signatureCheck: 'full' | 'memo';
  fleet: string;
  deviceClass: string;
  /** The factory keyset every device holds (SPEC §5), keys in hex. */
  keyset: { version: number; publicKeys: string[] };
  /** The enforced host of the rollout's pin set and the pin a rejecter's copy of that host serves (not in the set). */
  host: string;
  strayPin: string;
}

/** One device's answer to one delivery: the acks it publishes, in order, each after the PUBACK of the one before. */
export interface DeviceAnswer {
  index: number;
  acks: { status: 'applied' | 'verified' | 'rejected'; payload: Uint8Array }[];
}

const NOTHING = new Uint8Array(32);

export class DeviceFleetModel {
  private readonly keyset: TrustedKeyset;
  private readonly installedSeq: Int32Array;
  private readonly installedSha: (Uint8Array | undefined)[];
  private readonly strayServed: ReadonlyMap<string, readonly Uint8Array[]>;
  /** Time spent in the SPEC §4 receipt check (signature verify included), ms, and how many checks ran. */
  readonly cost = { checkMs: 0, checks: 0, rejected: 0 };

  private readonly verify: (sig: Uint8Array, msg: Uint8Array, key: Uint8Array) => boolean;

  constructor(private readonly spec: FleetSpec) {
    this.verify = spec.signatureCheck === 'full' ? ed25519VerifyFast : memoVerify();
    this.keyset = { version: spec.keyset.version, publicKeys: spec.keyset.publicKeys.map((h) => new Uint8Array(Buffer.from(h, 'hex'))) };
    this.installedSeq = new Int32Array(spec.n);
    this.installedSha = new Array<Uint8Array | undefined>(spec.n);
    const stray = parsePin(spec.strayPin);
    if (!stray.ok) throw new Error(`bad stray pin: ${stray.error}`);
    this.strayServed = new Map([[spec.host, [stray.value]]]);
  }

  /** Microseconds per ed25519VerifyFast call, measured here (the signature's share of a device's check). */
  measureVerify(rounds = 2000): number {
    const env = this.lastEnvelope;
    if (env === null) return 0;
    let key: Uint8Array | undefined;
    let sig: Uint8Array | undefined;
    let msg: Uint8Array | undefined;
    // capture what checkReceipt hands the verifier, then time the verifier alone
    checkReceipt(env, this.keyset, undefined, undefined, { verify: (s, m, k) => ((sig = s), (msg = m), (key = k), true) });
    if (sig === undefined || msg === undefined || key === undefined) return 0;
    const t = performance.now();
    for (let i = 0; i < rounds; i++) ed25519VerifyFast(sig, msg, key);
    return ((performance.now() - t) * 1000) / rounds;
  }

  private lastEnvelope: Uint8Array | null = null;

  /** The SPEC §6 hello of a device that has nothing installed yet. */
  hello(): Uint8Array {
    return encodeHello({ firmware: 'bench-1.0', deviceClass: this.spec.deviceClass, fleet: this.spec.fleet, installedSeq: 0, keysetVersion: this.keyset.version, installedSha256: NOTHING });
  }

  /** A device receives an update envelope on its update topic: check it as firmware does, install it, answer. */
  receive(index: number, envelope: Uint8Array, nowSeconds: number): DeviceAnswer {
    const state: DeviceState = {
      deviceId: deviceIdOf(index),
      fleet: this.spec.fleet,
      deviceClass: this.spec.deviceClass,
      installedSeq: this.installedSeq[index] ?? 0,
      keysetVersion: this.keyset.version,
      ...(this.installedSha[index] === undefined ? {} : { installedSha256: this.installedSha[index] }),
      ...(fateOf(index) === 'rejecter' ? { servedPins: this.strayServed } : {}),
    };
    this.lastEnvelope = envelope;
    const t = performance.now();
    const r = checkReceipt(envelope, this.keyset, state, nowSeconds, { verify: this.verify });
    this.cost.checkMs += performance.now() - t;
    this.cost.checks += 1;
    if (!r.ok) {
      this.cost.rejected += 1;
      // the refused bytes and the seq they claim, as device-sim's firmware answers (SPEC §6 ack)
      const payload = encodeAck({ seq: claimedSeq(envelope), sha256: envelopeSha256(envelope), status: 'rejected', code: r.code });
      return { index, acks: [{ status: 'rejected', payload }] };
    }
    this.installedSeq[index] = r.pinset.seq;
    this.installedSha[index] = r.sha256;
    return {
      index,
      acks: [
        { status: 'applied', payload: encodeAck({ seq: r.pinset.seq, sha256: r.sha256, status: 'applied' }) },
        { status: 'verified', payload: encodeAck({ seq: r.pinset.seq, sha256: r.sha256, status: 'verified' }) },
      ],
    };
  }
}

/** ed25519VerifyFast with its answers memoised by the exact bytes of signature, message and key. */
function memoVerify(): (sig: Uint8Array, msg: Uint8Array, key: Uint8Array) => boolean {
  const memo = new Map<string, boolean>();
  return (sig, msg, key) => {
    const k = `${Buffer.from(sig).toString('base64')}${Buffer.from(key).toString('base64')}${createHash('sha256').update(msg).digest('base64')}`;
    let v = memo.get(k);
    if (v === undefined) {
      v = ed25519VerifyFast(sig, msg, key);
      if (memo.size > 64) memo.clear();
      memo.set(k, v);
    }
    return v;
  };
}
