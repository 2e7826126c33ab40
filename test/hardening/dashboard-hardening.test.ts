/**
 * Issue 17, dashboard side, on the real gateway (the dashboard start.ts mounts, over its real HTTP port where the
 * socket matters): form bodies capped (413), malformed multipart 400, CSRF failures 403 whatever the encoding,
 * a crafted /rotation query 400 with a code, sessions capped per token (one token cannot evict the others).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../dashboard/clock';
import { DEFAULT_SESSION_LIMITS, SessionStore } from '../../dashboard/session/session-store';
import { cookiesOf, csrfOf, formBody, login, ORIGIN } from '../dashboard/helpers';
import { createToken, removeDir, startTestGateway, tempDir, type TestGateway } from '../gateway/helpers/test-gateway';

let dir: string;
let gw: TestGateway;
let operator: string;
let viewer: string;

beforeAll(async () => {
  dir = tempDir();
  gw = await startTestGateway(dir);
  operator = await createToken(gw, 'olivia', 'operator');
  viewer = await createToken(gw, 'victor', 'viewer');
});
afterAll(async () => {
  await gw.stop();
  removeDir(dir);
});

const BOUNDARY = 'xBOUNDARYx';
const multipart = (parts: Record<string, string>) =>
  Object.entries(parts)
    .map(([k, v]) => `--${BOUNDARY}\r\ncontent-disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`)
    .join('') + `--${BOUNDARY}--\r\n`;

async function loginPage(): Promise<{ cookie: string; csrf: string }> {
  const page = await gw.api.request('/login');
  return { cookie: cookiesOf(page), csrf: csrfOf(await page.text()) };
}

describe('dashboard form bodies', () => {
  it('a 10 MB log-in form is refused with 413 E_TOO_LARGE over the real socket', async () => {
    const { cookie, csrf } = await loginPage();
    const res = await fetch(`${gw.http.url}/login`, {
      method: 'POST',
      headers: { origin: gw.http.url, cookie, 'content-type': 'application/x-www-form-urlencoded' },
      body: formBody({ _csrf: csrf, token: 'x'.repeat(10 * 1024 * 1024) }),
    });
    expect(res.status).toBe(413);
    expect(await res.text()).toContain('E_TOO_LARGE');
  });

  it('malformed multipart to /login and to a form post answers 400 E_BAD_FORM, never 500', async () => {
    const { cookie } = await loginPage();
    const bad = [
      { type: `multipart/form-data; boundary=${BOUNDARY}`, body: `--${BOUNDARY}\r\ngarbage without headers` },
      { type: 'multipart/form-data', body: 'no boundary at all' },
      { type: `multipart/form-data; boundary=${BOUNDARY}`, body: `--${BOUNDARY}\r\ncontent-disposition: form-data; name="a"\r\n\r\nunterminated` },
    ];
    for (const b of bad) {
      const res = await gw.api.request('/login', { method: 'POST', headers: { origin: ORIGIN, cookie, 'content-type': b.type }, body: b.body });
      expect(res.status, b.body).toBe(400);
      expect(await res.text()).toContain('E_BAD_FORM');
    }
    const s = await login(gw.api, operator);
    for (const b of bad) {
      const res = await gw.api.request('/rollouts/r1/pause', { method: 'POST', headers: { origin: ORIGIN, cookie: s.cookie, 'content-type': b.type }, body: b.body });
      expect(res.status, b.body).toBe(400);
    }
  });

  it('a multipart post without (or with a wrong) CSRF field answers 403', async () => {
    const s = await login(gw.api, operator);
    // an empty multipart body over the real socket (Content-Length: 0): no fields, so no CSRF field
    for (const path of ['/rollouts/r1/pause', '/login', '/logout']) {
      const res = await fetch(gw.http.url + path, {
        method: 'POST',
        headers: { origin: gw.http.url, cookie: s.cookie, 'content-type': `multipart/form-data; boundary=${BOUNDARY}` },
        body: '',
        redirect: 'manual',
      });
      expect(res.status, path).toBe(403);
    }
    for (const parts of [{ reason: 'x' }, { _csrf: 'wrong', reason: 'x' }]) {
      const res = await gw.api.request('/rollouts/r1/pause', {
        method: 'POST',
        headers: { origin: ORIGIN, cookie: s.cookie, 'content-type': `multipart/form-data; boundary=${BOUNDARY}` },
        body: multipart(parts),
      });
      expect(res.status).toBe(403);
    }
    const { cookie } = await loginPage();
    const res = await gw.api.request('/login', {
      method: 'POST',
      headers: { origin: ORIGIN, cookie, 'content-type': `multipart/form-data; boundary=${BOUNDARY}` },
      body: multipart({ token: operator }),
    });
    expect(res.status).toBe(403);
    // the same multipart form with the right field logs in
    const fresh = await loginPage();
    const ok = await gw.api.request('/login', {
      method: 'POST',
      headers: { origin: ORIGIN, cookie: fresh.cookie, 'content-type': `multipart/form-data; boundary=${BOUNDARY}` },
      body: multipart({ token: operator, _csrf: fresh.csrf, next: '/' }),
    });
    expect(ok.status).toBe(303);
  });
});

describe('hostile query values', () => {
  it('/rotation with a crafted host answers 400 with the gateway code, not 502', async () => {
    const s = await login(gw.api, viewer);
    for (const host of ['a b', '../../etc', 'x\u0000y', '<script>', 'h_h']) {
      const res = await s.get(`/rotation?fleet=f&host=${encodeURIComponent(host)}&pin=${encodeURIComponent('sha256/' + 'A'.repeat(43) + '=')}`);
      expect(res.status, host).toBe(400);
      expect(await res.text()).toContain('E_BAD_QUERY');
    }
  });
});

describe('dashboard sessions', () => {
  it('10,050 sessions of one viewer token leave an operator session alone (the store the dashboard uses)', () => {
    const store = new SessionStore(systemClock);
    const op = store.create(operator, { name: 'olivia', role: 'operator' });
    for (let i = 0; i < 10_050; i++) store.create(viewer, { name: 'victor', role: 'viewer' });
    expect(store.get(op.id)?.token).toBe(operator);
    expect(store.countFor(viewer)).toBe(DEFAULT_SESSION_LIMITS.maxSessionsPerToken);
  });

  it('are capped per token: many log-ins with a viewer token never evict an operator session', async () => {
    const op = await login(gw.api, operator);
    const n = DEFAULT_SESSION_LIMITS.maxSessionsPerToken * 3;
    const viewers = [];
    for (let i = 0; i < n; i++) viewers.push(await login(gw.api, viewer));
    expect((await op.get('/')).status).toBe(200);
    // the viewer's own oldest sessions went, its newest still work
    expect((await viewers[0]!.get('/')).status).toBe(303);
    expect((await viewers[n - 1]!.get('/')).status).toBe(200);
  });
});
