/**
 * Every dashboard route through Hono's app.request(): log-in required, roles, CSRF refusal, escaping, and the
 * mount under the gateway (the fake gateway API at /api stands in for the real one).
 */
import { describe, expect, it } from 'vitest';
import { CSP } from '../../dashboard/app';
import { cookiesOf, csrfOf, formBody, login, ORIGIN } from './helpers';
import { mounted, OPERATOR, ROLLOUT, scenario, VIEWER, XSS_DEVICE, XSS_FIRMWARE, XSS_HOST, PIN_C, T0 } from './scenario';

const PAGES = ['/', '/rollouts', `/rollouts/${ROLLOUT}`, `/rollouts/${ROLLOUT}/abort`, '/devices', '/devices/thermo-001', '/telemetry', '/audit'];

describe('log-in', () => {
  it('every page redirects to /login without a session, keeping where the operator was going', async () => {
    const app = mounted(scenario());
    for (const path of PAGES) {
      const res = await app.request(path);
      expect(res.status, path).toBe(303);
      expect(res.headers.get('location')).toBe(`/login?next=${encodeURIComponent(path)}`);
    }
    expect((await app.request('/events')).status).toBe(401);
    const post = await app.request(`/rollouts/${ROLLOUT}/pause`, {
      method: 'POST',
      headers: { origin: ORIGIN, 'content-type': 'application/x-www-form-urlencoded' },
      body: formBody({ _csrf: 'x' }),
    });
    expect(post.status).toBe(401);
  });

  it('accepts a token the API accepts and sets an HttpOnly SameSite=Strict cookie (no Secure over plain HTTP)', async () => {
    const app = mounted(scenario());
    const page = await app.request('/login?next=/devices');
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('name="token"');
    const res = await app.request('/login', {
      method: 'POST',
      headers: { origin: ORIGIN, cookie: cookiesOf(page), 'content-type': 'application/x-www-form-urlencoded' },
      body: formBody({ _csrf: csrfOf(html), token: OPERATOR, next: '/devices' }),
    });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/devices');
    const session = res.headers.getSetCookie().find((c) => c.startsWith('pgw_session='));
    expect(session).toMatch(/HttpOnly/);
    expect(session).toMatch(/SameSite=Strict/);
    expect(session).toMatch(/Path=\//);
    expect(session).not.toMatch(/Secure/);
  });

  it('uses a Secure __Host- cookie when secureCookies is set', async () => {
    const app = mounted(scenario(), { secureCookies: true });
    const page = await app.request('/login');
    expect(page.headers.getSetCookie()[0]).toMatch(/^__Host-pgw_login=.*Secure/);
    const res = await app.request('/login', {
      method: 'POST',
      headers: { origin: ORIGIN, cookie: cookiesOf(page), 'content-type': 'application/x-www-form-urlencoded' },
      body: formBody({ _csrf: csrfOf(await page.text()), token: OPERATOR }),
    });
    const session = res.headers.getSetCookie().find((c) => c.startsWith('__Host-pgw_session='));
    expect(session).toMatch(/Secure/);
    expect(session).toMatch(/HttpOnly/);
  });

  it('refuses a wrong token, a missing form token, a foreign origin, and an open redirect', async () => {
    const app = mounted(scenario());
    const page = await app.request('/login');
    const cookie = cookiesOf(page);
    const csrf = csrfOf(await page.text());
    const post = (fields: Record<string, string>, origin = ORIGIN) =>
      app.request('/login', {
        method: 'POST',
        headers: { origin, cookie, 'content-type': 'application/x-www-form-urlencoded' },
        body: formBody(fields),
      });
    const wrong = await post({ _csrf: csrf, token: 'nope' });
    expect(wrong.status).toBe(401);
    expect(await wrong.text()).toContain('did not accept this token');
    expect((await post({ token: OPERATOR })).status).toBe(403);
    expect((await post({ _csrf: csrf, token: OPERATOR }, 'https://evil.example')).status).toBe(403);
    const open = await post({ _csrf: csrf, token: OPERATOR, next: '//evil.example/x' });
    expect(open.headers.get('location')).toBe('/');
  });

  it('logs out (POST with the CSRF token) and the session is gone', async () => {
    const app = mounted(scenario());
    const s = await login(app, OPERATOR);
    expect((await s.post('/logout', {})).status).toBe(403);
    const out = await s.post('/logout');
    expect(out.status).toBe(303);
    expect(out.headers.get('location')).toBe('/login');
    expect((await s.get('/')).status).toBe(303);
  });

  it('drops the session when the gateway stops accepting its token', async () => {
    const g = scenario();
    const app = mounted(g);
    const s = await login(app, OPERATOR);
    g.tokens.delete(OPERATOR);
    const res = await s.get('/rollouts');
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/login');
    g.tokens.set(OPERATOR, { name: 'olivia', role: 'operator' });
    expect((await s.get('/rollouts')).status).toBe(303);
  });

  it('expires idle sessions by the injected clock', async () => {
    let now = T0;
    const app = mounted(scenario(), { clock: { now: () => now } });
    const s = await login(app, VIEWER);
    expect((await s.get('/audit')).status).toBe(200);
    now += 9 * 3_600_000;
    expect((await s.get('/audit')).status).toBe(303);
  });
});

describe('pages', () => {
  it('fleet overview: coverage bars toward the target, the rotation gate with at-risk count, online/offline, seq', async () => {
    const app = mounted(scenario());
    const s = await login(app, VIEWER);
    const res = await s.get('/');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-security-policy')).toBe(CSP);
    const html = await res.text();
    expect(html).toContain('thermostats');
    expect(html).toContain('cameras');
    expect(html).toContain('api.example.com');
    expect(html).toMatch(/class="stat-online">34</);
    expect(html).toMatch(/class="stat-offline">6</);
    expect(html).toMatch(/class="stat-seq">2</);
    // PIN_C: 2 of 40 verified = 5 %, not ready, 38 devices at risk
    const row = html.slice(html.indexOf(`data-pin="${PIN_C}"`));
    expect(row).toMatch(/data-gate="not-ready"/);
    expect(row).toMatch(/38 devices<!-- -->? at risk|38 devices at risk/);
    expect(row).toContain('5 %');
    expect(html).toMatch(/<line class="bar-target" x1="95.00"/);
  });

  it('rollouts list and detail: waves per execution state, gates, actions for operators', async () => {
    const app = mounted(scenario());
    const s = await login(app, OPERATOR);
    const list = await (await s.get('/rollouts')).text();
    expect(list).toContain(`href="/rollouts/${ROLLOUT}"`);
    expect(list).toContain('ro-6');
    const html = await (await s.get(`/rollouts/${ROLLOUT}`)).text();
    expect(html).toContain('canary');
    expect(html).toContain('delivered 28');
    expect(html).toContain('applied 10');
    expect(html).toContain('Success gate');
    expect(html).toContain(`action="/rollouts/${ROLLOUT}/pause"`);
    expect(html).toContain(`href="/rollouts/${ROLLOUT}/abort"`);
    expect(html).toContain(`action="/rollouts/${ROLLOUT}/advance"`);
  });

  it('viewers see no action buttons, and their forged POSTs are refused by the gateway (which audits them)', async () => {
    const g = scenario();
    const app = mounted(g);
    const s = await login(app, VIEWER);
    const html = await (await s.get(`/rollouts/${ROLLOUT}`)).text();
    expect(html).not.toContain(`action="/rollouts/${ROLLOUT}/`);
    expect(html).toContain('Read-only');
    for (const action of ['pause', 'abort', 'advance', 'resume', 'retry-failed', 'start']) {
      const res = await s.post(`/rollouts/${ROLLOUT}/${action}`, { _csrf: s.csrf, confirm: 'abort' });
      expect(res.status, action).toBe(303);
      expect(res.headers.get('location')).toBe(`/rollouts/${ROLLOUT}`);
      const page = await app.request(`/rollouts/${ROLLOUT}`, { headers: { cookie: `${s.cookie}; ${cookiesOf(res)}` } });
      expect(await page.text()).toContain('Not allowed for your role');
    }
    expect((await s.get(`/rollouts/${ROLLOUT}/abort`)).status).toBe(403);
    expect(g.rollouts.get(ROLLOUT)?.state.kind).toBe('RUNNING');
  });

  it('refuses a POST without the CSRF token, with a wrong one, or from another origin', async () => {
    const g = scenario();
    const app = mounted(g);
    const s = await login(app, OPERATOR);
    const path = `/rollouts/${ROLLOUT}/pause`;
    expect((await s.post(path, {})).status).toBe(403);
    expect((await s.post(path, { _csrf: 'x'.repeat(s.csrf.length) })).status).toBe(403);
    expect((await s.post(path, { _csrf: s.csrf }, { origin: 'https://evil.example' })).status).toBe(403);
    expect(g.rollouts.get(ROLLOUT)?.state.kind).toBe('RUNNING');
    const ok = await s.post(path, { _csrf: s.csrf, reason: 'checking mismatches' });
    expect(ok.status).toBe(303);
    expect(ok.headers.get('location')).toBe(`/rollouts/${ROLLOUT}`);
    expect(g.rollouts.get(ROLLOUT)?.state.kind).toBe('PAUSED');
    const html = await (await app.request(`/rollouts/${ROLLOUT}`, { headers: { cookie: `${s.cookie}; ${cookiesOf(ok)}` } })).text();
    expect(html).toContain('Rollout paused.');
    expect(html).toContain('by an operator: checking mismatches');
    expect(html).toContain(`action="/rollouts/${ROLLOUT}/resume"`);
  });

  it('abort needs the confirmation step', async () => {
    const g = scenario();
    const app = mounted(g);
    const s = await login(app, OPERATOR);
    const direct = await s.post(`/rollouts/${ROLLOUT}/abort`);
    expect(direct.status).toBe(303);
    expect(direct.headers.get('location')).toBe(`/rollouts/${ROLLOUT}/abort`);
    expect(g.rollouts.get(ROLLOUT)?.state.kind).toBe('RUNNING');
    const confirm = await (await s.get(`/rollouts/${ROLLOUT}/abort`)).text();
    expect(confirm).toContain('name="confirm" value="abort"');
    const res = await s.post(`/rollouts/${ROLLOUT}/abort`, { _csrf: s.csrf, confirm: 'abort', reason: 'wrong pins' });
    expect(res.status).toBe(303);
    expect(g.rollouts.get(ROLLOUT)?.state.kind).toBe('ABORTED');
  });

  it('shows the gateway refusing an illegal transition (409) and 404 for unknown rollouts and actions', async () => {
    const app = mounted(scenario());
    const s = await login(app, OPERATOR);
    const res = await s.post(`/rollouts/${ROLLOUT}/resume`);
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe(`/rollouts/${ROLLOUT}`);
    const page = await app.request(`/rollouts/${ROLLOUT}`, { headers: { cookie: `${s.cookie}; ${cookiesOf(res)}` } });
    expect(await page.text()).toMatch(/alert-error notice"[^>]*>The gateway refused to resume: cannot resume a rollout in state RUNNING/);
    expect((await s.get('/rollouts/nope')).status).toBe(404);
    expect((await s.post(`/rollouts/${ROLLOUT}/explode`)).status).toBe(404);
  });

  it('devices: filters go to the API, paging follows the cursor, the device page shows history', async () => {
    const g = scenario();
    const app = mounted(g);
    const s = await login(app, VIEWER);
    const first = await (await s.get('/devices?fleet=thermostats&online=true&deviceClass=th-basic')).text();
    expect(first).toContain('thermo-001');
    expect(first).not.toContain('thermo-003'); // offline
    expect(first).not.toContain('cam-01');
    const all = await (await s.get('/devices?fleet=thermostats&q=thermo')).text();
    expect(all).toContain('href="/devices?fleet=thermostats&amp;q=thermo&amp;offset=25"');
    const second = await (await s.get('/devices?fleet=thermostats&q=thermo&offset=25')).text();
    expect(second).toContain('« Previous page');
    expect(second).toContain('thermo-039');
    expect(second).not.toContain('thermo-001');
    const bySeq = await (await s.get('/devices?seq=4')).text();
    expect(bySeq).toContain('cam-01');
    expect(bySeq).not.toContain('thermo-0');
    const byState = await (await s.get('/devices?state=flagged')).text();
    expect(byState).toContain('thermo-017');
    expect(byState).not.toContain('thermo-016');
    const detail = await (await s.get('/devices/thermo-001')).text();
    expect(detail).toContain('History');
    expect(detail).toContain('report api.example.com:443');
    expect((await s.get('/devices/nope')).status).toBe(404);
  });

  it('escapes every device-supplied string (firmware <script>) on every page that shows it', async () => {
    const app = mounted(scenario());
    const s = await login(app, OPERATOR);
    for (const path of ['/devices?offset=25', `/devices/${XSS_DEVICE}`, '/devices?q=script']) {
      const html = await (await s.get(path)).text();
      expect(html, path).toContain('&lt;script&gt;window.__xss=1&lt;/script&gt;');
      expect(html, path).not.toContain(XSS_FIRMWARE);
    }
    for (const path of ['/telemetry', `/devices/${XSS_DEVICE}`]) {
      const html = await (await s.get(path)).text();
      expect(html, path).toContain('evil&quot;&gt;&lt;img src=x onerror=window.__xss=2&gt;');
      expect(html, path).not.toContain(XSS_HOST);
      expect(html, path).not.toContain('<script>window.__xss=3');
      expect(html, path).not.toContain('<img');
    }
  });

  it('telemetry: an inline SVG chart of ok / mismatch / fail-open, and the last reports with served pins', async () => {
    const app = mounted(scenario());
    const s = await login(app, VIEWER);
    const html = await (await s.get('/telemetry?window=6h')).text();
    expect(html).toContain('<svg viewBox="0 0 800 260"');
    expect(html).toContain('series-mismatch');
    expect(html).toContain('series-fail-open');
    expect(html).toMatch(/<polyline points="[\d., ]+"/);
    expect(html).toContain('mismatch');
    expect(html).toContain('sha256/');
  });

  it('audit log lists entries', async () => {
    const app = mounted(scenario());
    const s = await login(app, VIEWER);
    const html = await (await s.get('/audit')).text();
    expect(html).toContain('rollout.start');
    expect(html).toContain('release-bot');
  });

  it('serves its own assets without a session, and leaves /api alone when mounted at /', async () => {
    const app = mounted(scenario());
    for (const [path, type] of [
      ['/assets/live.js', 'text/javascript'],
      ['/assets/dashboard.css', 'text/css'],
      ['/assets/favicon.svg', 'image/svg+xml'],
    ] as const) {
      const res = await app.request(path);
      expect(res.status, path).toBe(200);
      expect(res.headers.get('content-type')).toContain(type);
    }
    expect((await app.request('/assets/nope.js')).status).toBe(404);
    const api = await app.request('/api/fleets', { headers: { authorization: `Bearer ${VIEWER}` } });
    expect(api.status).toBe(200);
    expect(api.headers.get('content-security-policy')).toBeNull();
    expect((await app.request('/api/fleets')).status).toBe(401);
  });
});
