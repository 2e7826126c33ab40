import { describe, expect, it } from 'vitest';
import { checkKeysetUpdate, checkReceipt, keysetFromJson, keysetToJson, signKeyset, signPinSet } from '../../shared/index';
import { keysetOf, samplePinSet, T0, testSigner } from '../support/fixtures';

const live = testSigner('live');
const backup = testSigner('backup-offline');
const next = testSigner('next');
const current = keysetOf(3, live, backup);

describe('signer keyset rotation (SPEC §5)', () => {
  it('accepts version current + 1 signed by a key of the current keyset, and the new key then signs pin sets', () => {
    const env = signKeyset({ format: 1, version: 4, publicKeys: [next.publicKey, backup.publicKey], issuedAt: T0 }, live);
    const r = checkKeysetUpdate(env, current, T0);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.keyset.version).toBe(4);
    const set = signPinSet(samplePinSet({ keysetVersion: 4 }), next);
    expect(checkReceipt(set, r.keyset).ok).toBe(true);
    expect(checkReceipt(set, current)).toMatchObject({ ok: false, code: 'E_KID' });
  });

  it('the offline backup signer can rotate the keyset when the live signer is lost', () => {
    const env = signKeyset({ format: 1, version: 4, publicKeys: [next.publicKey, backup.publicKey], issuedAt: T0 }, backup);
    expect(checkKeysetUpdate(env, current, T0).ok).toBe(true);
  });

  const cases: Array<[string, number, () => Uint8Array, string]> = [
    ['same version', 3, () => signKeyset({ format: 1, version: 3, publicKeys: [next.publicKey, backup.publicKey], issuedAt: T0 }, live), 'E_KEYSET'],
    ['skips a version', 5, () => signKeyset({ format: 1, version: 5, publicKeys: [next.publicKey, backup.publicKey], issuedAt: T0 }, live), 'E_KEYSET'],
    ['signed by a key outside the current keyset', 4, () => signKeyset({ format: 1, version: 4, publicKeys: [next.publicKey, backup.publicKey], issuedAt: T0 }, next), 'E_KID'],
    ['a pin set sent as a keyset', 4, () => signPinSet(samplePinSet(), live), 'E_SCHEMA'],
    ['issued far in the future', 4, () => signKeyset({ format: 1, version: 4, publicKeys: [next.publicKey, backup.publicKey], issuedAt: T0 + 3600 }, live), 'E_NOT_YET'],
  ];
  for (const [name, , make, code] of cases) {
    it(`${name} → ${code}`, () => expect(checkKeysetUpdate(make(), current, T0)).toMatchObject({ ok: false, code }));
  }

  it('misuse throws: a keyset of one key cannot be signed (SPEC §5: at least 2)', () => {
    expect(() => signKeyset({ format: 1, version: 4, publicKeys: [next.publicKey], issuedAt: T0 }, live)).toThrow(/"doc"/);
  });

  it('JSON form round-trips and a kid that does not match its key is refused', () => {
    expect(keysetFromJson(keysetToJson(current))).toEqual({ ok: true, value: current });
    const j = keysetToJson(current);
    j.keys[0] = { ...j.keys[0]!, kid: '0000000000000000' };
    expect(keysetFromJson(j)).toMatchObject({ ok: false });
  });
});
