import { describe, expect, it } from 'vitest';
import {
  dummyCredentialHash, hashCredential, hashDeviceCredential, isCurrentForm, isPbkdf2Hash, newDeviceCredential, verifyDeviceCredential,
} from '../../gateway/auth/device-credentials';

describe('device credentials', () => {
  it('a credential verifies against its own hash only, in both stored forms', async () => {
    const secret = newDeviceCredential();
    for (const hash of [await hashDeviceCredential(secret, 1024), await hashCredential(secret, { kind: 'pbkdf2' })]) {
      expect(await verifyDeviceCredential(secret, hash)).toBe(true);
      expect(await verifyDeviceCredential(newDeviceCredential(), hash)).toBe(false);
    }
  });

  it('new credentials are hashed in the fast $7$ form by default; only that policy re-hashes scrypt ones', async () => {
    const secret = newDeviceCredential();
    const fast = await hashCredential(secret, { kind: 'pbkdf2' });
    const slow = await hashCredential(secret, { kind: 'scrypt', scryptN: 1024 });
    expect(isPbkdf2Hash(fast)).toBe(true);
    expect(fast.split('$')[2]).toBe('101');
    expect(slow.startsWith('scrypt$1024$')).toBe(true);
    expect(isCurrentForm(fast, { kind: 'pbkdf2' })).toBe(true);
    expect(isCurrentForm(slow, { kind: 'pbkdf2' })).toBe(false);
    expect(isCurrentForm(fast.replace('$7$101$', '$7$5$'), { kind: 'pbkdf2' })).toBe(false); // another cost: re-hashed too
    expect(isCurrentForm(fast, { kind: 'scrypt', scryptN: 4096 })).toBe(true);
    expect(isCurrentForm(slow, { kind: 'scrypt', scryptN: 4096 })).toBe(true);
  });

  // Unknown device ids are checked against a dummy hash so that they cost what a known id costs: the dummy must be in
  // the policy's form and cost, whatever it is (a fixed N=4096 dummy made unknown ids cheaper once N was raised).
  it.each([1024, 4096, 16384])('the dummy hash for unknown devices under the scrypt policy uses the configured cost N=%i', async (n) => {
    const dummy = await dummyCredentialHash({ kind: 'scrypt', scryptN: n });
    expect(dummy.split('$').slice(0, 4)).toEqual(['scrypt', String(n), '8', '1']);
    expect(await verifyDeviceCredential(newDeviceCredential(), dummy)).toBe(false);
    expect(await dummyCredentialHash({ kind: 'scrypt', scryptN: n })).toBe(dummy); // computed once per N
  });

  it('the dummy hash under the default policy is in the $7$ form of new enrolments', async () => {
    const dummy = await dummyCredentialHash({ kind: 'pbkdf2' });
    expect(isPbkdf2Hash(dummy)).toBe(true);
    expect(dummy.split('$')[2]).toBe('101');
    expect(await verifyDeviceCredential(newDeviceCredential(), dummy)).toBe(false);
  });
});
