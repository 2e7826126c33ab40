import { createPrivateKey, createPublicKey } from 'node:crypto';
import { signerKeyFromSecret, type SignerKey } from './signer-key';

// RFC 8410 §7 and §4: DER prefixes of an Ed25519 PKCS#8 private key and SPKI public key.
const PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

/** PKCS#8 PEM, so that OpenSSL and other tools read our signer keys too. */
export function signerKeyToPem(key: SignerKey): string {
  const der = Buffer.concat([PKCS8_PREFIX, Buffer.from(key.secretKey)]);
  return createPrivateKey({ key: der, format: 'der', type: 'pkcs8' }).export({ type: 'pkcs8', format: 'pem' }).toString();
}

export function publicKeyToPem(publicKey: Uint8Array): string {
  const der = Buffer.concat([SPKI_PREFIX, Buffer.from(publicKey)]);
  return createPublicKey({ key: der, format: 'der', type: 'spki' }).export({ type: 'spki', format: 'pem' }).toString();
}

/** An Ed25519 private key from PKCS#8 PEM (as `pinctl keygen` writes it). Throws a TypeError saying why not. */
export function signerKeyFromPem(pem: string): SignerKey {
  let key;
  try {
    key = createPrivateKey(pem);
  } catch (e) {
    throw new TypeError(`signerKeyFromPem: "pem" is not a PKCS#8 private key (${(e as Error).message})`);
  }
  if (key.asymmetricKeyType !== 'ed25519') {
    throw new TypeError(`signerKeyFromPem: "pem" holds a ${key.asymmetricKeyType ?? 'unknown'} key, not Ed25519`);
  }
  const d = key.export({ format: 'jwk' }).d;
  if (d === undefined) throw new TypeError('signerKeyFromPem: "pem" has no private part');
  return signerKeyFromSecret(new Uint8Array(Buffer.from(d, 'base64url')));
}

/** The raw 32-byte Ed25519 public key from SPKI PEM. Throws a TypeError saying why not. */
export function publicKeyFromPem(pem: string): Uint8Array {
  let key;
  try {
    key = createPublicKey(pem);
  } catch (e) {
    throw new TypeError(`publicKeyFromPem: "pem" is not a public key (${(e as Error).message})`);
  }
  if (key.asymmetricKeyType !== 'ed25519') throw new TypeError(`publicKeyFromPem: "pem" holds a ${key.asymmetricKeyType ?? 'unknown'} key, not Ed25519`);
  const x = key.export({ format: 'jwk' }).x;
  if (x === undefined) throw new TypeError('publicKeyFromPem: "pem" has no key material');
  return new Uint8Array(Buffer.from(x, 'base64url'));
}
