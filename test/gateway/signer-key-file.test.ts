import { mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ensureSignerKey, readSignerKey } from '../../gateway/secrets/signer-keys';
import { generateSignerKey, signerKeyToPem, toHex } from '../../shared/index';

describe('gateway signer key file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pingw-key-'));

  it('reads a key written by pinctl keygen (PKCS#8 PEM) and the legacy hex form', () => {
    const key = generateSignerKey();
    writeFileSync(join(dir, 'pem.key'), signerKeyToPem(key), { mode: 0o600 });
    writeFileSync(join(dir, 'hex.key'), `${toHex(key.secretKey)}\n`, { mode: 0o600 });
    expect(toHex(readSignerKey(join(dir, 'pem.key'))?.publicKey ?? new Uint8Array())).toBe(toHex(key.publicKey));
    expect(toHex(readSignerKey(join(dir, 'hex.key'))?.publicKey ?? new Uint8Array())).toBe(toHex(key.publicKey));
  });

  it('creates a PEM key with mode 0600 on first start and reads the same key back', () => {
    const file = join(dir, 'new.key');
    const first = ensureSignerKey(file);
    expect(first.generated).toBe(true);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const again = ensureSignerKey(file);
    expect(again.generated).toBe(false);
    expect(toHex(again.key.publicKey)).toBe(toHex(first.key.publicKey));
  });

  it('a file that is not a key stops start-up with a message naming the file', () => {
    writeFileSync(join(dir, 'bad.key'), 'hello');
    expect(() => readSignerKey(join(dir, 'bad.key'))).toThrow(/bad\.key: expected an Ed25519 private key/);
  });
});
