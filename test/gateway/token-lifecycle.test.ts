/**
 * API token lifecycle (issue 17) on the real gateway (startGateway, real SQLite, dashboard mounted as start.ts
 * mounts it): expiry by the injected clock, listing without secrets, revocation that stops a token and its dashboard
 * sessions at the next request, last use written at most once a minute.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, createToken, removeDir, startTestGateway, tempDir, type TestGateway } from './helpers/test-gateway';
import { login } from '../dashboard/helpers';
import { TOKEN_TOUCH_EVERY_MS } from '../../gateway/api/route-table';

const DAY = 86_400_000;
let now = 1_900_000_000_000;
let dir: string;
let gw: TestGateway;

beforeAll(async () => {
  dir = tempDir('pingw-tokens-');
  gw = await startTestGateway(dir, { rollouts: { tickMs: 60_000 } }, { clock: { now: () => now } });
});

afterAll(async () => {
  await gw?.stop();
  removeDir(dir);
});

const create = (body: Record<string, unknown>) => api(gw, 'POST', '/api/tokens', { token: gw.adminToken, body });
const fleets = (token: string) => api(gw, 'GET', '/api/fleets', { token });
const listed = async (name: string) => ((await api(gw, 'GET', '/api/tokens', { token: gw.adminToken })).body as { name: string }[]).find((t) => t.name === name) as Record<string, unknown> | undefined;

describe('API token lifecycle', () => {
  it('an expiring token works until expiresAt by the injected clock, then gets 401 E_UNAUTHORIZED at once', async () => {
    const res = await create({ name: 'ci-short', role: 'viewer', ttlDays: 1 });
    expect(res.status).toBe(201);
    expect(res.body.expiresAt).toBe(now + DAY);
    expect((await fleets(res.body.token)).status).toBe(200);
    now += DAY - 1;
    expect((await fleets(res.body.token)).status).toBe(200);
    now += 1;
    const refused = await fleets(res.body.token);
    expect(refused.status).toBe(401);
    expect(refused.body.error.code).toBe('E_UNAUTHORIZED');
    expect(refused.body.error.message).toContain('expired');
    const abs = await create({ name: 'ci-abs', role: 'viewer', expiresAt: now + 5_000 });
    expect(abs.body.expiresAt).toBe(now + 5_000);
  });

  it('refuses an expiry in the past, both forms at once, or a bad ttl (400 E_BAD_BODY, nothing created)', async () => {
    for (const body of [
      { name: 'past', role: 'viewer', expiresAt: now },
      { name: 'both', role: 'viewer', expiresAt: now + DAY, ttlDays: 1 },
      { name: 'zero', role: 'viewer', ttlDays: 0 },
      { name: 'frac', role: 'viewer', ttlDays: 1.5 },
    ]) {
      const res = await create(body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.error.code).toBe('E_BAD_BODY');
      expect(await listed(body.name)).toBeUndefined();
    }
  });

  it('admins list tokens without secret or hash; others cannot list or revoke', async () => {
    const viewer = await createToken(gw, 'lister-v', 'viewer');
    const list = await api(gw, 'GET', '/api/tokens', { token: gw.adminToken });
    expect(list.status).toBe(200);
    expect(list.body.map((t: { name: string }) => t.name)).toEqual(expect.arrayContaining(['admin', 'lister-v', 'ci-short']));
    expect(Object.keys(list.body[0]).sort()).toEqual(['createdAt', 'createdBy', 'expiresAt', 'lastUsedAt', 'name', 'revokedAt', 'role']);
    expect(JSON.stringify(list.body)).not.toContain(viewer);
    expect(JSON.stringify(list.body)).not.toContain(gw.adminToken);
    expect((await api(gw, 'GET', '/api/tokens', { token: viewer })).status).toBe(403);
    expect((await api(gw, 'POST', '/api/tokens/lister-v/revoke', { token: viewer })).status).toBe(403);
    expect((await fleets(viewer)).status).toBe(200); // a refused revocation revoked nothing
  });

  it('a revoked token gets 401 at its next request; the revocation is audited; an unknown name is 404', async () => {
    const ops = await createToken(gw, 'ops-revoked', 'operator');
    expect((await fleets(ops)).status).toBe(200);
    const rev = await api(gw, 'POST', '/api/tokens/ops-revoked/revoke', { token: gw.adminToken });
    expect(rev).toEqual({ status: 200, body: { name: 'ops-revoked', revokedAt: now } });
    const refused = await fleets(ops);
    expect(refused.status).toBe(401);
    expect(refused.body.error.code).toBe('E_UNAUTHORIZED');
    expect((await listed('ops-revoked'))?.['revokedAt']).toBe(now);
    const audit = await api(gw, 'GET', '/api/audit?limit=20', { token: gw.adminToken });
    expect(audit.body.items).toEqual(expect.arrayContaining([expect.objectContaining({ action: 'token.revoke', target: 'ops-revoked', actor: 'admin' })]));
    const missing = await api(gw, 'POST', '/api/tokens/nobody/revoke', { token: gw.adminToken });
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe('E_NOT_FOUND');
  });

  it('a dashboard session of a revoked token is logged out at its next page', async () => {
    const token = await createToken(gw, 'dash-op', 'operator');
    const session = await login(gw.api, token);
    expect((await session.get('/devices')).status).toBe(200);
    await api(gw, 'POST', '/api/tokens/dash-op/revoke', { token: gw.adminToken });
    const next = await session.get('/devices');
    expect(next.status).toBe(303);
    expect(next.headers.get('location')).toBe('/login');
    // the session is gone, not only this page: the next one asks for a log-in too
    const after = await session.get('/');
    expect([302, 303]).toContain(after.status);
    expect(after.headers.get('location')).toMatch(/^\/login/);
  });

  it('last use is recorded, at most once a minute per token', async () => {
    const t = await createToken(gw, 'user-touch', 'viewer');
    expect((await listed('user-touch'))?.['lastUsedAt']).toBeNull();
    const first = now;
    await fleets(t);
    expect((await listed('user-touch'))?.['lastUsedAt']).toBe(first);
    now += TOKEN_TOUCH_EVERY_MS - 1;
    await fleets(t);
    expect((await listed('user-touch'))?.['lastUsedAt']).toBe(first); // throttled: no write
    now += 1;
    await fleets(t);
    expect((await listed('user-touch'))?.['lastUsedAt']).toBe(now);
  });
});
