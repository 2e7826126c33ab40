import { join } from 'node:path';
import { fromHex, generateSignerKey, signerKeyFromPem, signerKeyFromSecret, signerKeyToPem, type SignerKey } from '../../shared/index';
import { readSecretFile, writeSecretFile } from './secret-file';

/**
 * Reads a signer key file, or null when missing; throws naming a bad file. PKCS#8 PEM is what `pinctl keygen`
 * and the gateway write; a bare 64-character hex secret is read too (older data dirs).
 */
export function readSignerKey(file: string): SignerKey | null {
  const text = readSecretFile(file);
  if (text === null) return null;
  if (/^[0-9a-fA-F]{64}$/.test(text)) return signerKeyFromSecret(fromHex(text));
  try {
    return signerKeyFromPem(text);
  } catch (e) {
    throw new Error(`${file}: expected an Ed25519 private key (PKCS#8 PEM, as pinctl keygen writes): ${(e as Error).message}`);
  }
}

export function writeSignerKey(file: string, key: SignerKey): void {
  writeSecretFile(file, signerKeyToPem(key));
}

/** The gateway's signer key: loaded from its file, or generated and saved 0600 on first start. */
export function ensureSignerKey(file: string): { key: SignerKey; generated: boolean } {
  const existing = readSignerKey(file);
  if (existing) return { key: existing, generated: false };
  const key = generateSignerKey();
  writeSignerKey(file, key);
  return { key, generated: true };
}

export function backupSignerFile(dataDir: string): string {
  return join(dataDir, 'backup-signer.key');
}
