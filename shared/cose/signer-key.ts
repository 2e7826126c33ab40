import { createHash } from 'node:crypto';
import * as ed from '@noble/ed25519';
import { sha512 } from '@noble/hashes/sha2.js';

// docs/library-notes.md: synchronous sign/verify in @noble/ed25519 v3 need a SHA-512 implementation.
ed.hashes.sha512 = sha512;

export const KID_BYTES = 8;

/** An Ed25519 signer. The secret key is 32 bytes (RFC 8032 §5.1.5 seed). */
export interface SignerKey {
  readonly secretKey: Uint8Array;
  readonly publicKey: Uint8Array;
  readonly kid: Uint8Array;
}

/** SPEC §3: kid = first 8 bytes of SHA-256(raw 32-byte Ed25519 public key). */
export function kidOf(publicKey: Uint8Array): Uint8Array {
  if (!(publicKey instanceof Uint8Array) || publicKey.length !== 32) {
    throw new TypeError('kidOf: "publicKey" must be a 32-byte Ed25519 public key');
  }
  return new Uint8Array(createHash('sha256').update(publicKey).digest().subarray(0, KID_BYTES));
}

export function signerKeyFromSecret(secretKey: Uint8Array): SignerKey {
  if (!(secretKey instanceof Uint8Array) || secretKey.length !== 32) {
    throw new TypeError('signerKeyFromSecret: "secretKey" must be 32 bytes');
  }
  const publicKey = ed.getPublicKey(secretKey);
  return { secretKey: new Uint8Array(secretKey), publicKey, kid: kidOf(publicKey) };
}

export function generateSignerKey(): SignerKey {
  return signerKeyFromSecret(ed.utils.randomSecretKey());
}

export function ed25519Sign(message: Uint8Array, secretKey: Uint8Array): Uint8Array {
  return ed.sign(message, secretKey);
}

/**
 * Strict RFC 8032 verification (SPEC §3: not ZIP-215). Never throws: a malformed key or signature is
 * simply a failed verification.
 */
export function ed25519Verify(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean {
  try {
    return ed.verify(signature, message, publicKey, { zip215: false });
  } catch {
    return false;
  }
}
