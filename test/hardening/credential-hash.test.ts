/**
 * Issue 17, device credential hashing on a real gateway over real sockets: new enrolments are stored in the fast
 * `$7$` PBKDF2 form; a device enrolled with scrypt before keeps logging in, and its hash is re-hashed into the
 * fast form once, after its first successful log-in (audited, counted on GET /api/security and /metrics); a wrong
 * credential re-hashes nothing; PINGW_CREDENTIAL_HASH=scrypt keeps the old form.
 */
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isPbkdf2Hash, PBKDF2_ITERATIONS } from '../../gateway/auth/device-credentials';
import { openRegistry } from '../../gateway/registry/open-registry';
import { connectRaw, mqttUrl } from '../gateway/helpers/device-client';
import { api, enrol, removeDir, startTestGateway, tempDir, type TestGateway } from '../gateway/helpers/test-gateway';
import { waitFor } from '../gateway/helpers/wait-for';

const dir = tempDir();
let gw: TestGateway | null = null;
afterAll(async () => {
  await gw?.stop();
  removeDir(dir);
});

/** The stored hashes, read through the registry contract from the gateway's SQLite file. */
async function storedHash(deviceId: string): Promise<string> {
  const registry = await openRegistry({ file: join(dir, 'registry.sqlite'), url: null, readUrl: null, poolSize: 1 }, { now: () => Date.now() });
  try {
    const d = await registry.devices.get(deviceId);
    if (d === undefined) throw new Error(`no device ${deviceId}`);
    return d.credentialHash;
  } finally {
    await registry.close();
  }
}

const login = async (g: TestGateway, deviceId: string, password: string) => {
  const client = await connectRaw(mqttUrl(g), { clientId: deviceId, username: deviceId, password });
  await client.endAsync();
};
const refusal = (g: TestGateway, deviceId: string, password: string) =>
  login(g, deviceId, password).then(
    () => 0,
    (err: { code?: number }) => err.code ?? -1,
  );

describe('device credential hashing', () => {
  it('enrolments are stored in the fast $7$ form; scrypt ones are re-hashed once after a log-in, audited and counted', async () => {
    // a gateway of before issue 17 (scrypt): two devices enrolled
    gw = await startTestGateway(dir, { credentialHash: 'scrypt', credentialScryptN: 1024 });
    const oldA = await enrol(gw, 'old-a');
    const oldB = await enrol(gw, 'old-b');
    await gw.stop();
    gw = null;
    expect(await storedHash('old-a')).toMatch(/^scrypt\$1024\$8\$1\$/);

    // the same data dir with the default
    gw = await startTestGateway(dir);
    const g = gw;
    const fresh = await enrol(g, 'new-c');
    const freshHash = await storedHash('new-c');
    expect(isPbkdf2Hash(freshHash)).toBe(true);
    expect(freshHash.split('$')[2]).toBe(String(PBKDF2_ITERATIONS));

    // a wrong credential for an scrypt device: refused (CONNACK 4), nothing re-hashed
    expect(await refusal(g, 'old-b', 'not-the-credential')).toBe(4);
    expect(await storedHash('old-b')).toMatch(/^scrypt\$/);

    // the scrypt device logs in twice at once, then again: every log-in succeeds, the hash is written once
    await Promise.all([login(g, 'old-a', oldA), login(g, 'old-a', oldA)]);
    await waitFor('old-a re-hashed', async () => isPbkdf2Hash(await storedHash('old-a')), 10_000);
    await login(g, 'old-a', oldA); // verified against the new $7$ hash now
    await login(g, 'new-c', fresh);
    expect(await refusal(g, 'old-a', oldB)).toBe(4); // the new hash is of old-a's secret only

    const audit = (await api(g, 'GET', '/api/audit?limit=100', { token: g.adminToken })).body.items as { action: string; target: string | null; detail: unknown }[];
    const rehashed = audit.filter((a) => a.action === 'device.credential-rehashed');
    expect(rehashed).toEqual([expect.objectContaining({ target: 'old-a', detail: expect.objectContaining({ from: 'scrypt', to: 'pbkdf2-sha512' }) })]);
    const security = (await api(g, 'GET', '/api/security', { token: g.adminToken })).body;
    expect(security.broker.credentialsRehashed).toBe(1);
    const metrics = await (await g.api.request('/metrics')).text();
    expect(metrics).toMatch(/^pingw_device_credentials_rehashed_total 1$/m);

    // old-b logs in with its own credential: re-hashed too
    await login(g, 'old-b', oldB);
    await waitFor('old-b re-hashed', async () => isPbkdf2Hash(await storedHash('old-b')), 10_000);
  });

  it('PINGW_CREDENTIAL_SCRYPT_N alone is deprecated: the gateway starts, warns, and keeps the fast form', async () => {
    await gw?.stop();
    gw = await startTestGateway(dir, { credentialScryptN: 1024 });
    expect(gw.logs.filter((l) => l.level === 'warn' && l.message.startsWith('PINGW_CREDENTIAL_SCRYPT_N is deprecated'))).toHaveLength(1);
    await enrol(gw, 'new-d');
    expect(isPbkdf2Hash(await storedHash('new-d'))).toBe(true);
  });

  it('PINGW_CREDENTIAL_HASH=scrypt keeps scrypt for enrolments and re-hashes nothing', async () => {
    await gw?.stop();
    gw = await startTestGateway(dir, { credentialHash: 'scrypt', credentialScryptN: 1024 });
    expect(gw.logs.some((l) => l.message.includes('deprecated'))).toBe(false);
    const secret = await enrol(gw, 'scrypt-d');
    expect(await storedHash('scrypt-d')).toMatch(/^scrypt\$1024\$/);
    await login(gw, 'scrypt-d', secret);
    expect(await storedHash('scrypt-d')).toMatch(/^scrypt\$1024\$/);
    expect((await api(gw, 'GET', '/api/security', { token: gw.adminToken })).body.broker.credentialsRehashed).toBe(0);
  });
});
