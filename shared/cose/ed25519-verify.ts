import { createPublicKey, type KeyObject, verify as opensslVerify } from 'node:crypto';
import * as ed from '@noble/ed25519';
import { ed25519Verify } from './signer-key';

/**
 * Strict RFC 8032 Ed25519 verification (SPEC §3: not ZIP-215) at OpenSSL speed, with exactly the answers of the
 * reference verifier `ed25519Verify` (@noble/ed25519 v3, `{ zip215: false }`).
 *
 * What the reference accepts (read from noble v3's `_verify` and `Point.fromBytes`):
 *   1. A and R decode strictly (RFC 8032 §5.1.3): y < p, the point exists, and not x = 0 with the sign bit set;
 *   2. 0 ≤ S < L (RFC 8032 §5.1.7: "If any of the decodings fail (including S being out of range) …");
 *   3. A is not of small order (noble's strict policy, as libsodium; beyond the RFC text);
 *   4. the cofactored group equation [8][S]B = [8]R + [8][k]A, k = SHA-512(R || A || M) over the raw bytes.
 *
 * OpenSSL (node:crypto) checks the cofactorless equation instead — RFC 8032 §5.1.7 says it is "sufficient, but
 * not required, to instead check [S]B = R + [k]A'" — by comparing the canonical encoding of [S]B − [k]A with
 * the R bytes, and it reduces a non-canonical y of A modulo p instead of refusing it. So this verifier:
 *   - refuses a public key that fails rule 1 or 3 (decided once per key with noble and cached with its
 *     KeyObject), an S ≥ L (rule 2) and a non-canonical R encoding (rule 1) before OpenSSL runs;
 *   - accepts when OpenSSL accepts. Then R is canonical and equals [S]B − [k]A as a point, with the same k
 *     (both hash the raw bytes), so the cofactored equation holds too: noble accepts;
 *   - hands an OpenSSL rejection to the reference. The two equations differ only when R or A carries a
 *     small-order (torsion) component — a signature only the key holder can make, which noble accepts and
 *     OpenSSL mostly refuses — and node:crypto exposes no point arithmetic to tell that case apart cheaply.
 * Net: every answer equals the reference's; valid signatures (all an honest gateway sends) cost one OpenSSL
 * verify; rejected ones cost an OpenSSL verify plus a noble verify (E_SIG is the rare path on a device).
 *
 * API in noble's style: untrusted bytes give a boolean, never an exception; misuse (not a Uint8Array, a
 * signature that is not 64 bytes, a key that is not 32 bytes: things the caller checks first, as openSign1
 * does) throws a TypeError naming the argument.
 */
export function ed25519VerifyFast(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean {
  if (!(signature instanceof Uint8Array) || signature.length !== 64) {
    throw new TypeError('ed25519VerifyFast: "signature" must be a 64-byte Uint8Array');
  }
  if (!(message instanceof Uint8Array)) throw new TypeError('ed25519VerifyFast: "message" must be a Uint8Array');
  if (!(publicKey instanceof Uint8Array) || publicKey.length !== 32) {
    throw new TypeError('ed25519VerifyFast: "publicKey" must be a 32-byte Uint8Array (raw Ed25519 key)');
  }
  const key = keyEntry(publicKey);
  if (key === undefined) return false; // rule 1 or 3 on A: noble refuses every signature under this key
  if (!scalarIsCanonical(signature)) return false; // rule 2: S ≥ L
  if (!encodingIsCanonical(signature, 0)) return false; // rule 1 on R
  if (key.keyObject !== undefined && opensslVerify(null, message, key.keyObject, signature)) return true;
  return ed25519Verify(signature, message, publicKey); // cofactored tie-break (torsion-carrying R or A)
}

/** The signature check openSign1 runs; both implementations answer identically (see ed25519VerifyFast). */
export type Ed25519Verifier = (signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array) => boolean;

// ---------------------------------------------------------------------------------------------------------------

/** L = 2^252 + 27742317777372353535851937790883648493 (RFC 8032 §5.1), little-endian. */
const L_LE = Uint8Array.from(Buffer.from('edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010', 'hex'));

/** RFC 8032 §5.1.7 step 1: S, the second half of the signature read little-endian, is below L. */
export function scalarIsCanonical(signature: Uint8Array): boolean {
  for (let i = 31; i >= 0; i--) {
    const s = signature[32 + i] as number;
    const l = L_LE[i] as number;
    if (s !== l) return s < l;
  }
  return false; // S = L
}

/**
 * RFC 8032 §5.1.3 on the 32 bytes at `offset`: y (the low 255 bits, little-endian) < p = 2^255 − 19, and not
 * x = 0 with the sign bit set. x = 0 exactly when y² = 1, i.e. y = 1 or y = p − 1. Whether the point exists is
 * left to the verify that follows (no valid signature has an R off the curve).
 */
export function encodingIsCanonical(bytes: Uint8Array, offset: number): boolean {
  const top = (bytes[offset + 31] as number) & 0x7f;
  const sign = (bytes[offset + 31] as number) >> 7;
  let middleFF = true; // bytes 1..30 all 0xff
  let middle00 = true; // bytes 1..30 all 0x00
  for (let i = 1; i <= 30; i++) {
    const b = bytes[offset + i] as number;
    if (b !== 0xff) middleFF = false;
    if (b !== 0x00) middle00 = false;
  }
  const b0 = bytes[offset] as number;
  // y ≥ p = 0x7fff…ffed: top 0x7f, middle all 0xff, first byte ≥ 0xed.
  if (top === 0x7f && middleFF && b0 >= 0xed) return false;
  if (sign === 1) {
    if (top === 0x00 && middle00 && b0 === 0x01) return false; // y = 1: x = 0, sign bit set
    if (top === 0x7f && middleFF && b0 === 0xec) return false; // y = p − 1: x = 0, sign bit set
  }
  return true;
}

// ---------------------------------------------------------------------------------------------------------------

interface KeyEntry {
  /** Absent when OpenSSL refuses the key although noble takes it: every verify then goes to the reference. */
  readonly keyObject: KeyObject | undefined;
}

/** RFC 8410 §4 SubjectPublicKeyInfo for Ed25519, followed by the 32 raw key bytes. */
const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');
const MAX_CACHED_KEYS = 64;
/** Public key (hex) → entry; `null` = a key the reference refuses (rule 1 or 3). A device uses a few keys. */
const keyCache = new Map<string, KeyEntry | null>();

function keyEntry(publicKey: Uint8Array): KeyEntry | undefined {
  const hex = Buffer.from(publicKey.buffer, publicKey.byteOffset, publicKey.byteLength).toString('hex');
  const cached = keyCache.get(hex);
  if (cached !== undefined) return cached ?? undefined;
  let entry: KeyEntry | null;
  try {
    const point = ed.Point.fromBytes(publicKey, false); // strict decode: y < p, on the curve, x = 0 ⇒ sign 0
    entry = point.isSmallOrder() ? null : { keyObject: opensslKey(publicKey) };
  } catch {
    entry = null;
  }
  if (keyCache.size >= MAX_CACHED_KEYS) {
    const oldest = keyCache.keys().next();
    if (oldest.done !== true) keyCache.delete(oldest.value);
  }
  keyCache.set(hex, entry);
  return entry ?? undefined;
}

function opensslKey(publicKey: Uint8Array): KeyObject | undefined {
  try {
    return createPublicKey({ key: Buffer.concat([SPKI_PREFIX, publicKey]), format: 'der', type: 'spki' });
  } catch {
    return undefined;
  }
}
