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

/**
 * The signer key at start-up. A missing key file is generated only while no keyset exists: once devices trust a
 * keyset, a fresh key would not be in it, and replacing the key silently would leave every JSON pin set
 * unsignable (or worse, hide a lost key). So start-up refuses and says what to do.
 */
export function loadGatewaySigner(args: {
  mode: 'gateway' | 'offline';
  file: string;
  currentKeysetVersion: number | null;
}): { key: SignerKey | null; generated: boolean } {
  if (args.mode === 'offline') return { key: null, generated: false };
  const existing = readSignerKey(args.file);
  if (existing) return { key: existing, generated: false };
  if (args.currentKeysetVersion !== null) {
    throw new Error(
      `the signer key ${args.file} is missing, but the registry already holds keyset v${args.currentKeysetVersion}; ` +
        'the gateway never replaces a signer key silently (devices would not trust a new one). Either restore the key ' +
        'file (PINGW_SIGNER_KEY_FILE points at it), or start with PINGW_SIGNER=offline and publish envelopes signed ' +
        'offline (pinctl sign --key <a key of the current keyset>); to give the gateway a new key, rotate the keyset ' +
        'offline (pinctl keyset --sign-with <backup key> …, POST /api/keysets/rotate) with the new public key in it.',
    );
  }
  return ensureSignerKey(args.file);
}
