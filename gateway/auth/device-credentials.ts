import { pbkdf2, randomBytes, scrypt, timingSafeEqual } from 'node:crypto';

/**
 * Device credentials: 256 random bits shown once at enrolment, stored salted and hashed. Two forms verify:
 * - `$7$iterations$salt$hash`, PBKDF2-HMAC-SHA512 (Mosquitto's password-file form): the default for new
 *   enrolments on both transports (issue 17, docs/SECURITY.md "Device credential hashing");
 * - `scrypt$N$r$p$salt$hash` (base64url): the embedded broker's form before issue 17, still verified, and
 *   re-hashed to the `$7$` form after a successful log-in (gateway/broker/credential-upgrade.ts);
 *   `PINGW_CREDENTIAL_HASH=scrypt` keeps it for new enrolments.
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

/**
 * Mosquitto's password-file hash (`mosquitto_passwd`, src/password_mosq.c): `$7$iterations$salt$hash`, PBKDF2-HMAC-
 * SHA512 with a 12-byte salt and a 64-byte key, both standard base64. An external broker verifies it itself, so a
 * device enrolled for it needs no round trip to the gateway at CONNECT (docs/scale.md "Credentials"). Device
 * secrets are 256 random bits (newDeviceCredential), not human passwords: a guess costs 2^255 tries whatever the
 * hash cost, so a fast salted hash is sound and mosquitto_passwd's default of 101 iterations is kept.
 */
export const PBKDF2_ITERATIONS = 101;
const PBKDF2_SALT_BYTES = 12;
const PBKDF2_KEY_BYTES = 64;

function pbkdf2Async(secret: string, salt: Buffer, iterations: number): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    pbkdf2(secret, salt, iterations, PBKDF2_KEY_BYTES, 'sha512', (err, key) => (err ? reject(err) : resolve(key))),
  );
}

export async function hashDeviceCredentialPbkdf2(credential: string, iterations = PBKDF2_ITERATIONS): Promise<string> {
  // 12 printable salt bytes (72 random bits, base64url characters): the same salt works for brokers that take the
  // salt as text, e.g. EMQX's pbkdf2 authenticator (docs/scale.md "EMQX")
  const salt = Buffer.from(randomBytes((PBKDF2_SALT_BYTES * 3) / 4).toString('base64url'), 'latin1');
  const key = await pbkdf2Async(credential, salt, iterations);
  return `$7$${iterations}$${salt.toString('base64')}$${key.toString('base64')}`;
}

/** Whether a stored hash is in the `$7$` form a Mosquitto password file holds. */
export function isPbkdf2Hash(stored: string): boolean {
  return /^\$7\$[1-9][0-9]{0,6}\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/.test(stored);
}

async function verifyPbkdf2(credential: string, stored: string): Promise<boolean> {
  if (!isPbkdf2Hash(stored) || credential.length > 1024) return false;
  const [, , iterations, salt, hash] = stored.split('$');
  const expected = Buffer.from(hash ?? '', 'base64');
  if (expected.length !== PBKDF2_KEY_BYTES) return false;
  const actual = await pbkdf2Async(credential, Buffer.from(salt ?? '', 'base64'), Number(iterations));
  return timingSafeEqual(actual, expected);
}

/**
 * Constant-time comparison of a presented credential with a stored hash (scrypt, or the `$7$` PBKDF2 form of
 * devices enrolled for an external broker); false for any malformed hash.
 */
export async function verifyDeviceCredential(credential: string, stored: string): Promise<boolean> {
  if (stored.startsWith('$7$')) return verifyPbkdf2(credential, stored);
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

/**
 * How new device credentials are hashed (PINGW_CREDENTIAL_HASH): `pbkdf2` (default, `$7$`, 101 iterations) or
 * `scrypt` at cost `scryptN` (PINGW_CREDENTIAL_SCRYPT_N, deprecated: meaningful only with `scrypt`).
 */
export type CredentialPolicy = { readonly kind: 'pbkdf2' } | { readonly kind: 'scrypt'; readonly scryptN: number };

export const DEFAULT_CREDENTIAL_POLICY: CredentialPolicy = { kind: 'pbkdf2' };

/** The hash of a new credential in the policy's form. */
export function hashCredential(credential: string, policy: CredentialPolicy): Promise<string> {
  return policy.kind === 'pbkdf2' ? hashDeviceCredentialPbkdf2(credential) : hashDeviceCredential(credential, policy.scryptN);
}

/**
 * Whether a stored hash is in the policy's current form, i.e. needs no re-hash after a successful log-in. Only the
 * `pbkdf2` policy re-hashes (scrypt → `$7$`); with `scrypt` every verifiable hash is left as it is.
 */
export function isCurrentForm(stored: string, policy: CredentialPolicy): boolean {
  if (policy.kind === 'scrypt') return true;
  return isPbkdf2Hash(stored) && stored.split('$')[2] === String(PBKDF2_ITERATIONS);
}

const dummyHashes = new Map<string, Promise<string>>();

/**
 * A hash of a credential nobody holds, in the policy's form and cost: an unknown device id is checked against it, so
 * it costs what a known, current one costs and the answer time does not tell which ids exist. (A dummy in another
 * form or cost would make unknown ids cheaper or dearer than known ones: exactly the timing signal it exists to
 * hide.) While scrypt hashes of older enrolments remain, a known id with one costs more than an unknown id: the
 * gap closes as they log in and are re-hashed (docs/SECURITY.md).
 */
export function dummyCredentialHash(policy: CredentialPolicy): Promise<string> {
  const key = policy.kind === 'pbkdf2' ? `pbkdf2:${PBKDF2_ITERATIONS}` : `scrypt:${policy.scryptN}`;
  let hash = dummyHashes.get(key);
  if (hash === undefined) {
    hash = hashCredential(newDeviceCredential(), policy);
    dummyHashes.set(key, hash);
  }
  return hash;
}
