import { join } from 'node:path';
import { fromHex, generateSignerKey, signerKeyFromSecret, toHex, type SignerKey } from '../../shared/index';
import { readSecretFile, writeSecretFile } from './secret-file';

/** Reads a signer key file (the 32-byte Ed25519 secret in hex), or null when missing; throws naming a bad file. */
export function readSignerKey(file: string): SignerKey | null {
  const text = readSecretFile(file);
  if (text === null) return null;
  if (!/^[0-9a-fA-F]{64}$/.test(text)) throw new Error(`${file}: expected a 32-byte Ed25519 secret key in hex (64 characters)`);
  return signerKeyFromSecret(fromHex(text));
}

export function writeSignerKey(file: string, key: SignerKey): void {
  writeSecretFile(file, toHex(key.secretKey) + '\n');
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
