import { createPublicKey, verify, type KeyObject } from 'node:crypto';

/** One RFC 6962 log: its base URL (…/ct/v1/ is appended) and, optionally, its public key to check STH signatures. */
export interface CtLog {
  url: string;
  key: KeyObject | null;
}

/** `URL` or `URL key=BASE64-DER-SPKI` (PINGW_CT_LOGS items). */
export function parseCtLog(spec: string): CtLog {
  const [url, keyPart] = spec.trim().split(/\s+/, 2) as [string, string | undefined];
  const base = url.endsWith('/') ? url : `${url}/`;
  if (keyPart === undefined) return { url: base, key: null };
  if (!keyPart.startsWith('key=')) throw new Error(`CT log "${spec}": expected "URL" or "URL key=BASE64"`);
  return { url: base, key: createPublicKey({ key: Buffer.from(keyPart.slice(4), 'base64'), format: 'der', type: 'spki' }) };
}

export interface SignedTreeHead {
  treeSize: number;
  timestamp: number;
  rootHash: Uint8Array;
  signature: Uint8Array;
}

export interface RawEntry {
  leafInput: Uint8Array;
  extraData: Uint8Array;
}

const b64 = (v: unknown, what: string): Uint8Array => {
  if (typeof v !== 'string') throw new Error(`${what} is not base64 text`);
  return new Uint8Array(Buffer.from(v, 'base64'));
};
const uint = (v: unknown, what: string): number => {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw new Error(`${what} is not an unsigned integer`);
  return v;
};

function u64(n: number): Uint8Array {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, BigInt(n));
  return b;
}

/**
 * RFC 6962 §3.5: the signature covers TreeHeadSignature {version v1(0), signature_type tree_hash(1), timestamp,
 * tree_size, sha256_root_hash}; `tree_head_signature` is a DigitallySigned {hash, signature algorithm, opaque
 * signature<0..2^16-1>} (RFC 5246 §4.7), SHA-256 with ECDSA or RSA.
 */
export function verifySth(sth: SignedTreeHead, key: KeyObject): boolean {
  const data = Buffer.concat([Uint8Array.of(0, 1), u64(sth.timestamp), u64(sth.treeSize), sth.rootHash]);
  const s = sth.signature;
  if (s.length < 4 || s[0] !== 4) return false; // hash algorithm sha256(4)
  const len = ((s[2] as number) << 8) | (s[3] as number);
  if (s.length !== 4 + len) return false;
  return verify('sha256', data, key, s.subarray(4));
}

/** The log API client (RFC 6962 §4.3 get-sth, §4.6 get-entries), over fetch with a timeout per request. */
export class CtClient {
  constructor(
    readonly log: CtLog,
    private readonly timeoutMs: number,
  ) {}

  async getSth(): Promise<SignedTreeHead> {
    const j = await this.get('get-sth');
    const rootHash = b64(j['sha256_root_hash'], 'sha256_root_hash');
    if (rootHash.length !== 32) throw new Error('sha256_root_hash is not 32 bytes');
    return {
      treeSize: uint(j['tree_size'], 'tree_size'),
      timestamp: uint(j['timestamp'], 'timestamp'),
      rootHash,
      signature: b64(j['tree_head_signature'], 'tree_head_signature'),
    };
  }

  /** Entries start..end inclusive; a log may answer fewer than asked (§4.6), never more, never none. */
  async getEntries(start: number, end: number): Promise<RawEntry[]> {
    const j = await this.get(`get-entries?start=${start}&end=${end}`);
    const entries = j['entries'];
    if (!Array.isArray(entries) || entries.length === 0) throw new Error(`get-entries ${start}..${end} answered no entries`);
    if (entries.length > end - start + 1) throw new Error(`get-entries ${start}..${end} answered ${entries.length} entries`);
    return entries.map((e: unknown, i) => {
      const o = (e ?? {}) as Record<string, unknown>;
      return { leafInput: b64(o['leaf_input'], `entry ${start + i} leaf_input`), extraData: b64(o['extra_data'] ?? '', `entry ${start + i} extra_data`) };
    });
  }

  private async get(path: string): Promise<Record<string, unknown>> {
    const url = new URL(`ct/v1/${path}`, this.log.url);
    const res = await fetch(url, { signal: AbortSignal.timeout(this.timeoutMs) });
    if (!res.ok) throw new Error(`${url.pathname}: HTTP ${res.status}`);
    const j: unknown = await res.json();
    if (typeof j !== 'object' || j === null) throw new Error(`${url.pathname}: not a JSON object`);
    return j as Record<string, unknown>;
  }
}
