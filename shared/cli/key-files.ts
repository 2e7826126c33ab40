import { readFileSync } from 'node:fs';
import { signerKeyFromPem } from '../cose/key-pem';
import type { SignerKey } from '../cose/signer-key';
import { UsageError } from './usage-error';

/** Reads an Ed25519 private key (PKCS#8 PEM as `pinctl keygen` writes it). Misuse throws a UsageError. */
export function readSignerKey(path: string): SignerKey {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new UsageError(`cannot read key ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  try {
    return signerKeyFromPem(text);
  } catch (e) {
    throw new UsageError(`${path} is not an Ed25519 private key (PKCS#8 PEM): ${(e as Error).message.replace(/^signerKeyFromPem: /, '')}`);
  }
}
