import { createHash } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  bytesEqual, envelopeSha256, fromHex, REPORT_RESULTS, toBase64, toHex,
  type PinSet, type Report, type ReportResult, type TrustedKeyset,
} from '../shared/index';
import { removeStaleTemp, writeFileAtomic, type AtomicWriteHooks } from './atomic-write';
import { defaultEnvelopeCache, type EnvelopeCheckCache } from './envelope-cache';

/**
 * A device's persistent state (its flash): the installed envelope (exact bytes, SPEC §3), its seq and SHA-256
 * (SPEC §4 E_ROLLBACK needs both), whether it was verified (SPEC §6), the trusted signer keyset (SPEC §5) and
 * the validation reports not yet delivered (SPEC §6 report, sent on the next good connection).
 *
 * One JSON file per device, `<dir>/<deviceId>.json`, replaced as a whole with writeFileAtomic, so the envelope,
 * seq and keyset can never disagree after a crash. The body carries a SHA-256 checksum; on load the envelope is
 * re-checked context-free (checkReceipt without a device: E_SIZE … E_SCHEMA) under the stored keyset and must
 * match the stored seq and hash. Anything wrong = corrupted storage: the device falls back to its factory state
 * (factory keyset + factory pin set), rewrites it, and says so (LoadResult.corrupted; the hello then announces
 * the factory seq, which is how the gateway learns of it: SPEC §6 has no storage-error message).
 */
export interface StoredState {
  readonly envelope?: Uint8Array;
  readonly pinset?: PinSet;
  readonly seq: number;
  readonly sha256?: Uint8Array;
  readonly verified: boolean;
  readonly keyset: TrustedKeyset;
  /** The keyset that accepted the installed envelope, when a keyset rotation (SPEC §5) happened since. */
  readonly envelopeKeyset?: TrustedKeyset;
  readonly pendingReports: readonly Report[];
}

/** What the device holds when it leaves the factory (ROM): a keyset and optionally a signed pin set. */
export interface FactoryState {
  readonly keyset: TrustedKeyset;
  readonly envelope?: Uint8Array;
}

export interface LoadResult {
  readonly state: StoredState;
  /** No file yet: first boot from the factory state. */
  readonly firstBoot: boolean;
  /** Why the stored state was refused, when it was (the device then runs on its factory state). */
  readonly corrupted?: string;
  /** A temp file from an interrupted write was found and removed. */
  readonly removedTemp: boolean;
}

export interface DeviceStorageOptions {
  readonly fsync?: boolean;
  readonly cache?: EnvelopeCheckCache;
}

/** Unrecoverable factory data is a programming error of the harness, not device input: throws. */
export function factoryState(factory: FactoryState, cache: EnvelopeCheckCache = defaultEnvelopeCache): StoredState {
  if (factory.envelope === undefined) return { seq: 0, verified: false, keyset: factory.keyset, pendingReports: [] };
  const r = cache.check(factory.envelope, factory.keyset);
  if (!r.ok) throw new TypeError(`factory envelope does not pass the context-free checks: ${r.code} ${r.detail}`);
  return { envelope: factory.envelope, pinset: r.pinset, seq: r.pinset.seq, sha256: r.sha256, verified: false, keyset: factory.keyset, pendingReports: [] };
}

interface FileBody {
  format: 1;
  envelope: string | null;
  seq: number;
  sha256: string | null;
  verified: boolean;
  keyset: { version: number; publicKeys: string[] };
  envelopeKeyset: { version: number; publicKeys: string[] } | null;
  pendingReports: Array<{ host: string; port: number; result: string; servedPins: string[]; installedSeq: number; time: number }>;
}

const checksumOf = (body: string): string => createHash('sha256').update(body).digest('hex');

export class DeviceStorage {
  readonly path: string;
  writes = 0;

  constructor(
    readonly dir: string,
    readonly deviceId: string,
    readonly factory: FactoryState,
    private readonly opts: DeviceStorageOptions = {},
  ) {
    this.path = join(dir, `${deviceId}.json`);
  }

  private get cache(): EnvelopeCheckCache {
    return this.opts.cache ?? defaultEnvelopeCache;
  }

  /** `repair: false` only reads (tools inspecting a device's flash); a device always repairs. */
  async load(opts: { repair?: boolean } = {}): Promise<LoadResult> {
    const repair = opts.repair !== false;
    if (repair) await mkdir(this.dir, { recursive: true });
    const removedTemp = repair ? await removeStaleTemp(this.path) : false;
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      // First boot: the factory state lives in ROM, nothing needs writing until something changes.
      return { state: factoryState(this.factory, this.cache), firstBoot: true, removedTemp };
    }
    const parsed = this.parse(text);
    if (typeof parsed === 'string') {
      const state = factoryState(this.factory, this.cache);
      if (repair) await this.save(state);
      return { state, firstBoot: false, corrupted: parsed, removedTemp };
    }
    return { state: parsed, firstBoot: false, removedTemp };
  }

  /** Replaces the whole state atomically (write temp, fsync, rename, fsync dir). */
  async save(state: StoredState, hooks?: AtomicWriteHooks): Promise<void> {
    const body: FileBody = {
      format: 1,
      envelope: state.envelope !== undefined ? toBase64(state.envelope) : null,
      seq: state.seq,
      sha256: state.sha256 !== undefined ? toHex(state.sha256) : null,
      verified: state.verified,
      keyset: keysetToFile(state.keyset),
      envelopeKeyset: state.envelopeKeyset !== undefined ? keysetToFile(state.envelopeKeyset) : null,
      pendingReports: state.pendingReports.map((r) => ({ ...r, servedPins: r.servedPins.map(toHex) })),
    };
    const json = JSON.stringify(body);
    const file = `{"checksum":"${checksumOf(json)}","body":${json}}\n`;
    await writeFileAtomic(this.path, Buffer.from(file), {
      ...(this.opts.fsync !== undefined ? { fsync: this.opts.fsync } : {}),
      ...(hooks !== undefined ? { hooks } : {}),
    });
    this.writes++;
  }

  /** The stored state, or the reason it cannot be trusted. */
  private parse(text: string): StoredState | string {
    // The checksum covers the body's exact text, so the body is cut out of the file rather than re-serialised.
    const m = /^\{"checksum":"([0-9a-f]{64})","body":(.*)\}\n?$/s.exec(text);
    if (m === null) return 'storage file is not in the expected layout';
    const [, sum, json] = m as unknown as [string, string, string];
    if (checksumOf(json) !== sum) return 'storage checksum mismatch';
    let b: FileBody;
    try {
      b = JSON.parse(json) as FileBody;
    } catch {
      return 'storage body is not JSON';
    }
    try {
      if (b.format !== 1 || !Number.isSafeInteger(b.seq) || typeof b.verified !== 'boolean') return 'storage fields are malformed';
      const keyset = keysetFromFile(b.keyset);
      const envelopeKeyset = b.envelopeKeyset === null ? undefined : keysetFromFile(b.envelopeKeyset);
      if (keyset === undefined || (b.envelopeKeyset !== null && envelopeKeyset === undefined)) return 'stored keyset is malformed';
      const pendingReports: Report[] = b.pendingReports.map((r) => {
        if (!(REPORT_RESULTS as readonly string[]).includes(r.result)) throw new Error('bad report result');
        return { ...r, result: r.result as ReportResult, servedPins: r.servedPins.map(fromHex) };
      });
      if (b.envelope === null) {
        if (b.seq !== 0 || b.sha256 !== null) return 'stored seq without an envelope';
        return { seq: 0, verified: b.verified, keyset, pendingReports };
      }
      const envelope = new Uint8Array(Buffer.from(b.envelope, 'base64'));
      // SPEC §4 context-free checks again: the bytes in flash must still be a valid signed set.
      const r = this.cache.check(envelope, envelopeKeyset ?? keyset);
      if (!r.ok) return `stored envelope fails ${r.code}: ${r.detail}`;
      const sha256 = envelopeSha256(envelope);
      if (b.sha256 === null || !bytesEqual(fromHex(b.sha256), sha256)) return 'stored envelope hash mismatch';
      if (r.pinset.seq !== b.seq) return 'stored seq differs from the envelope';
      return {
        envelope, pinset: r.pinset, seq: b.seq, sha256, verified: b.verified, keyset, pendingReports,
        ...(envelopeKeyset !== undefined ? { envelopeKeyset } : {}),
      };
    } catch (e) {
      return `storage fields are malformed (${(e as Error).message})`;
    }
  }
}

function keysetToFile(k: TrustedKeyset): { version: number; publicKeys: string[] } {
  return { version: k.version, publicKeys: k.publicKeys.map(toHex) };
}

/** undefined when malformed. */
function keysetFromFile(k: { version: number; publicKeys: string[] }): TrustedKeyset | undefined {
  const keys = k.publicKeys.map(fromHex);
  if (!Number.isSafeInteger(k.version) || keys.some((x) => x.length !== 32)) return undefined;
  return { version: k.version, publicKeys: keys };
}
