import { type CborValue, decodeCbor, encodeCanonical, isCanonical, isMap } from '../cbor/canonical';
import { MAX_ENVELOPE_BYTES, type Rejection } from '../errors';
import { findKeyByKid, type TrustedKeyset } from './trusted-keyset';
import { err, ok, type Result } from '../result';
import type { Ed25519Verifier } from './ed25519-verify';
import { ed25519Sign, ed25519Verify, KID_BYTES, type SignerKey } from './signer-key';

/** RFC 9052 §4.2: COSE_Sign1 is CBOR tag 18. */
export const COSE_SIGN1_TAG = 18;
/** RFC 9053 §2.2: EdDSA. */
export const ALG_EDDSA = -8;
/** RFC 9052 §3.1 header labels. */
const HDR_ALG = 1;
const HDR_KID = 4;
const HDR_CONTENT_TYPE = 16;
const SIGNATURE_BYTES = 64;
const EMPTY = new Uint8Array(0);

function protectedHeader(kid: Uint8Array, contentType: string): Uint8Array {
  return encodeCanonical(new Map<CborValue, CborValue>([[HDR_ALG, ALG_EDDSA], [HDR_KID, kid], [HDR_CONTENT_TYPE, contentType]]));
}

/** RFC 9052 §4.4: Sig_structure = ["Signature1", body_protected, external_aad, payload]; SPEC §3: aad is h''. */
function toBeSigned(protectedBytes: Uint8Array, payload: Uint8Array): Uint8Array {
  return encodeCanonical(['Signature1', protectedBytes, EMPTY, payload]);
}

/** Wraps a deterministic CBOR payload into a signed COSE_Sign1 envelope (SPEC §3). */
export function signSign1(payload: Uint8Array, contentType: string, key: SignerKey): Uint8Array {
  if (!(payload instanceof Uint8Array)) throw new TypeError('signSign1: "payload" must be a Uint8Array');
  const prot = protectedHeader(key.kid, contentType);
  const signature = ed25519Sign(toBeSigned(prot, payload), key.secretKey);
  const envelope = encodeCanonical({ tag: COSE_SIGN1_TAG, value: [prot, new Map(), payload, signature] });
  if (envelope.length > MAX_ENVELOPE_BYTES) {
    throw new RangeError(`signSign1: envelope is ${envelope.length} bytes, more than ${MAX_ENVELOPE_BYTES} (SPEC §3)`);
  }
  return envelope;
}

export interface OpenedSign1 {
  readonly kid: Uint8Array;
  readonly payload: Uint8Array;
  /** The payload decoded; checked to be deterministic CBOR. */
  readonly document: CborValue;
}

const reject = (code: Rejection['code'], detail: string): Result<never, Rejection> => err({ code, detail });

/**
 * SPEC §4 checks E_SIZE … E_NONCANONICAL on an envelope, in that order, plus the content type (E_SCHEMA).
 * Untrusted bytes: never throws.
 *
 * `verify` is the E_SIG check. The default is the reference, @noble/ed25519 strict (`ed25519Verify`): the
 * gateway checks its own output once per published set, where speed does not matter and the reference is the
 * plainest statement of SPEC §3. Devices (device-sim) pass `ed25519VerifyFast`, which answers identically at
 * OpenSSL speed (docs/decisions.md, "Fast strict Ed25519 verification").
 */
export function openSign1(
  envelope: Uint8Array,
  keyset: TrustedKeyset,
  contentType: string,
  verify: Ed25519Verifier = ed25519Verify,
): Result<OpenedSign1, Rejection> {
  if (!(envelope instanceof Uint8Array)) return reject('E_CBOR', 'envelope is not a byte string');
  if (envelope.length > MAX_ENVELOPE_BYTES) {
    return reject('E_SIZE', `envelope is ${envelope.length} bytes; at most ${MAX_ENVELOPE_BYTES} (SPEC §3)`);
  }
  const outer = decodeCbor(envelope);
  if (!outer.ok) return reject('E_CBOR', `envelope is not well-formed CBOR: ${outer.error}`);
  const top = outer.value;
  if (typeof top !== 'object' || top === null || !('tag' in top) || top.tag !== COSE_SIGN1_TAG) {
    return reject('E_NOT_COSE', 'envelope is not a COSE_Sign1 (CBOR tag 18, RFC 9052 §4.2)');
  }
  const parts = top.value;
  if (!Array.isArray(parts) || parts.length !== 4) return reject('E_NOT_COSE', 'COSE_Sign1 must be an array of 4 items');
  const [prot, unprot, payload, signature] = parts as readonly CborValue[];
  if (!(prot instanceof Uint8Array)) return reject('E_NOT_COSE', 'protected header must be a byte string');
  if (!isMap(unprot)) return reject('E_NOT_COSE', 'unprotected header must be a map');
  if (unprot.size !== 0) return reject('E_NOT_COSE', 'unprotected header must be empty (SPEC §3)');
  if (!(payload instanceof Uint8Array)) return reject('E_NOT_COSE', 'payload must be an attached byte string');
  if (!(signature instanceof Uint8Array) || signature.length !== SIGNATURE_BYTES) {
    return reject('E_NOT_COSE', `signature must be a ${SIGNATURE_BYTES}-byte string`);
  }
  // RFC 9052 §3: a zero-length protected bstr stands for an empty map.
  const hdr = prot.length === 0 ? ok<CborValue>(new Map()) : decodeCbor(prot);
  if (!hdr.ok) return reject('E_CBOR', `protected header is not well-formed CBOR: ${hdr.error}`);
  const header = hdr.value;
  if (!isMap(header)) return reject('E_NOT_COSE', 'protected header must encode a map');
  if (header.get(HDR_ALG) !== ALG_EDDSA) {
    return reject('E_ALG', `alg must be ${ALG_EDDSA} (EdDSA), got ${String(header.get(HDR_ALG) ?? 'none')}`);
  }
  const kid = header.get(HDR_KID);
  const publicKey = kid instanceof Uint8Array && kid.length === KID_BYTES ? findKeyByKid(keyset, kid) : undefined;
  if (!(kid instanceof Uint8Array) || publicKey === undefined) {
    return reject('E_KID', `kid ${kid instanceof Uint8Array ? Buffer.from(kid).toString('hex') : 'missing'} is not in trusted keyset v${keyset.version}`);
  }
  if (!verify(signature, toBeSigned(prot, payload), publicKey)) {
    return reject('E_SIG', 'Ed25519 signature does not verify (RFC 8032 strict)');
  }
  if (prot.length === 0 || !isCanonical(prot, header)) return reject('E_NONCANONICAL', 'protected header is not deterministic CBOR');
  const doc = decodeCbor(payload);
  if (!doc.ok) return reject('E_CBOR', `payload is not well-formed CBOR: ${doc.error}`);
  if (!isCanonical(payload, doc.value)) return reject('E_NONCANONICAL', 'payload is not deterministic CBOR (RFC 8949 §4.2.1)');
  for (const label of header.keys()) {
    if (label !== HDR_ALG && label !== HDR_KID && label !== HDR_CONTENT_TYPE) {
      return reject('E_SCHEMA', `protected header has an unexpected label ${String(label)}`);
    }
  }
  if (header.get(HDR_CONTENT_TYPE) !== contentType) {
    return reject('E_SCHEMA', `content type must be "${contentType}", got "${String(header.get(HDR_CONTENT_TYPE))}"`);
  }
  return ok({ kid, payload, document: doc.value });
}
