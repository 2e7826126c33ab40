/**
 * Ed25519 constructions for the verifier cross-check (test/shared/ed25519-verify.test.ts): signatures made with
 * chosen scalars so that R and A can carry small-order (torsion) components or non-canonical encodings, which no
 * ordinary signer produces. Built on @noble/ed25519's Point (the reference's own arithmetic).
 */
import { createHash } from 'node:crypto';
import * as ed from '@noble/ed25519';

/** RFC 8032 §5.1: p = 2^255 − 19, L = 2^252 + 27742317777372353535851937790883648493. */
export const P = 2n ** 255n - 19n;
export const L = 2n ** 252n + 27742317777372353535851937790883648493n;
const B = ed.Point.BASE;

export const le = (n: bigint): Uint8Array => {
  const out = new Uint8Array(32);
  for (let i = 0; i < 32; i++) out[i] = Number((n >> BigInt(8 * i)) & 0xffn);
  return out;
};
export const leToBig = (b: Uint8Array): bigint => {
  let n = 0n;
  for (let i = b.length - 1; i >= 0; i--) n = (n << 8n) | BigInt(b[i] as number);
  return n;
};
const hex = (h: string) => Uint8Array.from(Buffer.from(h, 'hex'));
const cat = (...parts: Uint8Array[]) => Uint8Array.from(Buffer.concat(parts));

/** The eight points of small order (the torsion subgroup E[8]), canonical encodings. */
export const SMALL_ORDER: ReadonlyArray<{ name: string; bytes: Uint8Array }> = [
  { name: 'identity (0, 1), order 1', bytes: hex('0100000000000000000000000000000000000000000000000000000000000000') },
  { name: '(0, −1), order 2', bytes: hex('ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f') },
  { name: '(+√−1, 0), order 4', bytes: hex('0000000000000000000000000000000000000000000000000000000000000000') },
  { name: '(−√−1, 0), order 4', bytes: hex('0000000000000000000000000000000000000000000000000000000000000080') },
  { name: 'order 8 (a)', bytes: hex('c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a') },
  { name: 'order 8 (b)', bytes: hex('c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa') },
  { name: 'order 8 (c)', bytes: hex('26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05') },
  { name: 'order 8 (d)', bytes: hex('26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85') },
];

/** Non-canonical encodings of small-order points (y ≥ p, or x = 0 with the sign bit set): RFC 8032 §5.1.3 refuses them. */
export const NON_CANONICAL: ReadonlyArray<{ name: string; bytes: Uint8Array }> = [
  { name: 'y = p (≡ 0), sign 0', bytes: hex('edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f') },
  { name: 'y = p (≡ 0), sign 1', bytes: hex('edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff') },
  { name: 'y = p + 1 (≡ 1), sign 0', bytes: hex('eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f') },
  { name: 'y = p + 1 (≡ 1), sign 1', bytes: hex('eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff') },
  { name: 'identity with sign bit (x = 0, x₀ = 1)', bytes: hex('0100000000000000000000000000000000000000000000000000000000000080') },
  { name: '(0, −1) with sign bit (x = 0, x₀ = 1)', bytes: hex('ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff') },
];

export const ORDER8 = ed.Point.fromBytes(SMALL_ORDER[4]!.bytes);

/** k = SHA-512(R || A || M) mod L (RFC 8032 §5.1.7 step 2), over the raw bytes. */
export function challenge(R: Uint8Array, A: Uint8Array, msg: Uint8Array): bigint {
  return leToBig(createHash('sha512').update(cat(R, A, msg)).digest()) % L;
}

/** Deterministic scalar in [1, L) from a label. */
export function scalar(label: string): bigint {
  return (leToBig(createHash('sha512').update(label).digest()) % (L - 1n)) + 1n;
}

/** A key pair as raw scalar a and encoding of A = [a]B + torsion. */
export function keyPair(label: string, torsion?: ed.Point): { a: bigint; A: Uint8Array } {
  const a = scalar(`key:${label}`);
  const point = torsion === undefined ? B.multiply(a) : B.multiply(a).add(torsion);
  return { a, A: point.toBytes() };
}

/**
 * Signs with nonce r chosen by label; `rTorsion` adds a small-order point to R (a "mixed-order R" that only the
 * key holder can make). S = r + k·a mod L, exactly as RFC 8032 §5.1.6 step 3 (with our own R).
 */
export function signWith(key: { a: bigint; A: Uint8Array }, msg: Uint8Array, label: string, rTorsion?: ed.Point): Uint8Array {
  const r = scalar(`nonce:${label}`);
  const Rp = rTorsion === undefined ? B.multiply(r) : B.multiply(r).add(rTorsion);
  const R = Rp.toBytes();
  const k = challenge(R, key.A, msg);
  return cat(R, le((r + k * key.a) % L));
}

/** A signature with R given as raw bytes and S given as an integer (any value < 2^256). */
export function rawSig(R: Uint8Array, S: bigint): Uint8Array {
  return cat(R, le(S));
}

/** R = identity (r = 0), S = k·a: valid for the cofactored and the cofactorless equation alike. */
export function identityRSig(key: { a: bigint; A: Uint8Array }, msg: Uint8Array, R: Uint8Array = SMALL_ORDER[0]!.bytes): Uint8Array {
  return rawSig(R, (challenge(R, key.A, msg) * key.a) % L);
}
