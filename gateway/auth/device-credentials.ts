import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';

/**
 * Device credentials: 256 random bits shown once at enrolment, stored as
 * `scrypt$N$r$p$salt$hash` (base64url) so the cost can be raised later without invalidating old hashes.
 * The secret is random, not a human password, so a moderate N keeps reconnect storms affordable.
 */
const KEY_LEN = 32;

export function newDeviceCredential(): string {
  return randomBytes(32).toString('base64url');
}

function scryptAsync(secret: string, salt: Buffer, n: number, r: number, p: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(secret, salt, KEY_LEN, { N: n, r, p, maxmem: 256 * n * r + 1024 * 1024 }, (err, key) =>
      err ? reject(err) : resolve(key),
    );
  });
}

export async function hashDeviceCredential(credential: string, n: number): Promise<string> {
  const salt = randomBytes(16);
  const key = await scryptAsync(credential, salt, n, 8, 1);
  return ['scrypt', n, 8, 1, salt.toString('base64url'), key.toString('base64url')].join('$');
}

/** Constant-time comparison of a presented credential with a stored hash; false for any malformed hash. */
export async function verifyDeviceCredential(credential: string, stored: string): Promise<boolean> {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const [n, r, p] = [Number(parts[1]), Number(parts[2]), Number(parts[3])];
  if (![n, r, p].every((x) => Number.isInteger(x) && x > 0)) return false;
  const salt = Buffer.from(parts[4] ?? '', 'base64url');
  const expected = Buffer.from(parts[5] ?? '', 'base64url');
  if (expected.length !== KEY_LEN || credential.length > 1024) return false;
  const actual = await scryptAsync(credential, salt, n, r, p);
  return timingSafeEqual(actual, expected);
}

const dummyHashes = new Map<number, Promise<string>>();

/**
 * A hash of a credential nobody holds, at the configured cost N: an unknown device id is checked against it, so it
 * costs the same scrypt as a known one and the answer time does not tell which ids exist. (A fixed dummy at another
 * N would make unknown ids cheaper or dearer than known ones: exactly the timing signal it exists to hide.)
 */
export function dummyCredentialHash(n: number): Promise<string> {
  let hash = dummyHashes.get(n);
  if (hash === undefined) {
    hash = hashDeviceCredential(newDeviceCredential(), n);
    dummyHashes.set(n, hash);
  }
  return hash;
}
