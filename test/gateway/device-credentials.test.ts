import { describe, expect, it } from 'vitest';
import { dummyCredentialHash, hashDeviceCredential, newDeviceCredential, verifyDeviceCredential } from '../../gateway/auth/device-credentials';

describe('device credentials', () => {
  it('a credential verifies against its own hash only', async () => {
    const secret = newDeviceCredential();
    const hash = await hashDeviceCredential(secret, 1024);
    expect(await verifyDeviceCredential(secret, hash)).toBe(true);
    expect(await verifyDeviceCredential(newDeviceCredential(), hash)).toBe(false);
  });

  // Unknown device ids are checked against a dummy hash so that they cost what a known id costs: the dummy must be at
  // the configured N, whatever it is (a fixed N=4096 dummy made unknown ids cheaper once N was raised).
  it.each([1024, 4096, 16384])('the dummy hash for unknown devices uses the configured cost N=%i', async (n) => {
    const dummy = await dummyCredentialHash(n);
    expect(dummy.split('$').slice(0, 4)).toEqual(['scrypt', String(n), '8', '1']);
    expect(await verifyDeviceCredential(newDeviceCredential(), dummy)).toBe(false);
    expect(await dummyCredentialHash(n)).toBe(dummy); // computed once per N
  });
});
