import { createPrivateKey, createPublicKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { signerKeyFromSecret, type SignerKey } from '../cose/signer-key';
import { UsageError } from './usage-error';

// RFC 8410 §7 and §4: DER prefixes of an Ed25519 PKCS#8 private key and SPKI public key.
const PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

/** PKCS#8 PEM, so that OpenSSL and other tools read our keys too. */
export function privateKeyPem(key: SignerKey): string {
  const der = Buffer.concat([PKCS8_PREFIX, Buffer.from(key.secretKey)]);
  return createPrivateKey({ key: der, format: 'der', type: 'pkcs8' }).export({ type: 'pkcs8', format: 'pem' }).toString();
}

export function publicKeyPem(publicKey: Uint8Array): string {
  const der = Buffer.concat([SPKI_PREFIX, Buffer.from(publicKey)]);
  return createPublicKey({ key: der, format: 'der', type: 'spki' }).export({ type: 'spki', format: 'pem' }).toString();
}

/** Reads an Ed25519 private key (PKCS#8 PEM as `pinctl keygen` writes it). Misuse throws a UsageError. */
export function readSignerKey(path: string): SignerKey {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new UsageError(`cannot read key ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  try {
    const key = createPrivateKey(text);
    if (key.asymmetricKeyType !== 'ed25519') throw new Error(`it is a ${key.asymmetricKeyType ?? 'unknown'} key`);
    const d = key.export({ format: 'jwk' }).d;
    if (d === undefined) throw new Error('no private part');
    return signerKeyFromSecret(new Uint8Array(Buffer.from(d, 'base64url')));
  } catch (e) {
    throw new UsageError(`${path} is not an Ed25519 private key (PKCS#8 PEM): ${(e as Error).message}`);
  }
}
