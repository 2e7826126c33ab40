/**
 * Issue 15 on the REAL gateway (real-harness.ts): rollout page defects and "why isn't it moving?". Real tokens,
 * real devices over MQTT that hold or reject updates when the test says, real rollouts; app.request() on the
 * production app (gateway API + mounted dashboard) and chromium. Every wait is for a condition.
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { cookiesOf, login, ORIGIN, type LoggedIn } from './helpers';
import type { MqttDevice } from './mqtt-device';
import { launchChromium, startRealGateway, type RealGateway } from './real-harness';
import { HOST, PIN_A, PIN_B, PIN_C } from './scenario';

let real: RealGateway;
let browser: Browser;
let operator = '';
let viewer = '';
const lamps: MqttDevice[] = [];
const N = 10;

const audit = async (q: string) => (await real.call('GET', `/api/audit?${q}`, real.admin)).body.items as { actor: string; action: string; target: string; detail: any }[];

async function newRollout(waves: unknown[]): Promise<string> {
  const seq = await real.call('POST', '/api/pinsets', real.admin, { target: { fleet: 'lamps' }, hosts: [{ name: HOST, includeSubdomains: false, pins: [PIN_A, PIN_B], enforce: true }] });
  expect(seq.status).toBe(201);
  const created = await real.call('POST', '/api/rollouts', operator, { pinsetId: seq.body.id, plan: { waves }, gates: { soakMs: 0, errorMinFinished: 1000 } });
  expect(created.status).toBe(201);
  return String(created.body.id);
}

/** POST a dashboard form, then GET where it redirected with the cookies it set (the flash). */
async function postAndFollow(s: LoggedIn, path: string, fields: Record<string, string>) {
  const res = await s.post(path, { _csrf: s.csrf, ...fields });
  const location = res.headers.get('location');
  const flash = cookiesOf(res);
  const page = location === null ? null : await real.gw.api.request(location, { headers: { cookie: [s.cookie, flash].filter((x) => x !== '').join('; ') } });
  return { res, location, flash, html: page === null ? '' : await page.text() };
}

beforeAll(async () => {
  real = await startRealGateway();
  operator = await real.token('olivia', 'operator');
  viewer = await real.token('victor', 'viewer');
  for (let i = 0; i < N; i++) lamps.push(await real.device(operator, `lamp-${String(i).padStart(2, '0')}`, 'lamps', '2.0.0'));
  for (const d of lamps) d.hold = true;
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await real?.stop();
});

describe('rollout page on the real gateway (issue 15)', () => {
  it('refusals redirect back to the rollout as errors, reasons are audited once, refused writes are audited', async () => {
    const id = await newRollout([{ name: 'canary', limit: { count: 2 } }, { name: 'rest', limit: { percent: 100 } }]);
    expect((await real.call('POST', `/api/rollouts/${id}/start`, operator, {})).status).toBe(200);
    const op = await login(real.gw.api, operator);

    // resume a RUNNING rollout: 409 from the gateway → 303 back to the rollout, shown as an error
    const refused = await postAndFollow(op, `/rollouts/${id}/resume`, { reason: 'stale button' });
    expect(refused.res.status).toBe(303);
    expect(refused.location).toBe(`/rollouts/${id}`);
    expect(refused.html).toMatch(/class="alert alert-error notice"[^>]*>The gateway refused to resume: cannot resume a rollout in state RUNNING/);
    expect((await audit(`target=${id}&action=rollout.resume.refused`)).map((e) => [e.actor, e.detail.reason])).toEqual([['olivia', 'stale button']]);

    // a viewer's forged POST reaches the gateway, which refuses and audits it; the page shows the refusal
    const v = await login(real.gw.api, viewer);
    const forged = await postAndFollow(v, `/rollouts/${id}/pause`, { reason: 'viewer tries' });
    expect(forged.location).toBe(`/rollouts/${id}`);
    expect(forged.html).toContain('Not allowed for your role');
    expect((await audit('action=access.refused')).map((e) => [e.actor, e.target])).toEqual([['victor', `POST /api/rollouts/${id}/pause`]]);
    expect((await real.call('GET', `/api/rollouts/${id}`, viewer)).body.state.kind).toBe('RUNNING');

    // advance with a reason: one audit entry for the action, carrying the reason (no second rollout.state entry)
    const advanced = await postAndFollow(op, `/rollouts/${id}/advance`, { reason: 'canary lamps are offline for the night' });
    expect(advanced.html).toMatch(/class="alert alert-ok notice"[^>]*>Advanced to the next wave\./);
    const byOlivia = await audit(`target=${id}&actor=olivia`);
    expect(byOlivia.map((e) => e.action).filter((a) => a !== 'rollout.wave').reverse()).toEqual(['rollout.create', 'rollout.start', 'rollout.resume.refused', 'rollout.advance']);
    expect(byOlivia.find((e) => e.action === 'rollout.advance')?.detail).toMatchObject({ from: 'RUNNING', to: 'RUNNING', wave: 1, reason: 'canary lamps are offline for the night' });

    // the notice describes that state only: once the state moves on, the same cookie shows nothing
    expect((await real.call('POST', `/api/rollouts/${id}/pause`, operator, { reason: 'elsewhere' })).status).toBe(200);
    const later = await real.gw.api.request(`/rollouts/${id}`, { headers: { cookie: `${op.cookie}; ${advanced.flash}` } });
    const html = await later.text();
    expect(html).not.toContain('Advanced to the next wave.');
    expect(html).toContain('by an operator: elsewhere');
    // the activity timeline tells who did what and why
    expect(html).toMatch(/<b>olivia<\/b> advanced<span class="muted"> · RUNNING → RUNNING · wave 2 · reason: canary lamps are offline for the night/);
    expect((await real.call('POST', `/api/rollouts/${id}/abort`, operator, {})).status).toBe(200);
    for (const d of lamps) d.pending.splice(0);
  });

  it('progress counts the whole target; the gate says why it holds; queued, rejected devices are links; ETA in the API', async () => {
    const id = await newRollout([
      { name: 'canary', limit: { count: 2 } },
      { name: 'ten', limit: { count: 3 } },
      { name: 'rest', limit: { percent: 100 } },
    ]);
    for (const d of lamps) d.pending.splice(0);
    expect((await real.call('POST', `/api/rollouts/${id}/start`, operator, {})).status).toBe(200);
    await vi.waitFor(() => expect(lamps.filter((d) => d.pending.length > 0)).toHaveLength(2), { timeout: 10_000 });
    const s = await login(real.gw.api, viewer);
    await vi.waitFor(async () => {
      const html = await (await s.get(`/rollouts/${id}`)).text();
      expect(html).toContain('Not advancing yet: success gate: 0/2 verified, need 95 %.');
    });
    const list = await (await s.get('/rollouts')).text();
    expect(list).toMatch(/<td class="reason">success gate: 0\/2 verified, need 95 %<\/td>/);

    const [first, second] = lamps.filter((d) => d.pending.length > 0);
    await first?.release();
    await second?.reject('E_WOULD_BRICK');
    await vi.waitFor(async () => {
      const r = (await real.call('GET', `/api/rollouts/${id}`, viewer)).body;
      expect(r.executions.byKind).toMatchObject({ VERIFIED: 1, REJECTED: 1 });
    });
    const api = (await real.call('GET', `/api/rollouts/${id}`, viewer)).body;
    expect(api.targetDevices).toBe(N);
    expect(api.eta).toMatchObject({ percent: 95, remaining: 9 });
    expect(api.eta.perMinute).toBeGreaterThan(0);
    expect(api.waves[0].eta).toMatchObject({ remaining: 1 });
    expect(api.waves[2].eta).toBeNull();

    const html = await (await s.get(`/rollouts/${id}`)).text();
    expect(html).toMatch(/<b class="verified-count">1<\/b> \/ <span class="target-count">10<\/span> verified/);
    expect(html).toContain('8 not reached yet');
    expect(html).toContain(`href="/rollouts/${id}/devices?state=REJECTED&amp;wave=0" data-stuck="REJECTED">1 rejected`);

    const rejected = await (await s.get(`/rollouts/${id}/devices?state=REJECTED&wave=0`)).text();
    expect(rejected).toContain(`href="/devices/${second?.client.options.clientId}"`);
    expect(rejected).toContain("installing it would cut the device off");
    const bad = await real.call('GET', `/api/rollouts/${id}/executions?state=LOST`, viewer);
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('E_BAD_QUERY');

    // aborted: the bar is not full, unstarted waves never started
    expect((await real.call('POST', `/api/rollouts/${id}/abort`, operator, { reason: 'test over' })).status).toBe(200);
    const aborted = await (await s.get(`/rollouts/${id}`)).text();
    expect(aborted).toContain('8 never reached');
    expect(aborted).toMatch(/<tr data-wave="1">(?:(?!<\/tr>).)*never started/s);
    expect(aborted).toMatch(/<tr data-wave="0">(?:(?!<\/tr>).)*stopped/s);
    for (const d of lamps) d.pending.splice(0);
  });

  it('an approval pause offers one button; an error-gate pause gives its figures at the pause and now', async () => {
    for (const d of lamps) d.pending.splice(0);
    const seq = await real.call('POST', '/api/pinsets', real.admin, { target: { fleet: 'lamps' }, hosts: [{ name: HOST, includeSubdomains: false, pins: [PIN_A, PIN_B], enforce: true }] });
    const created = await real.call('POST', '/api/rollouts', operator, { pinsetId: seq.body.id, plan: { waves: [{ limit: { count: 1 } }, { limit: { percent: 100 } }] }, gates: { soakMs: 0, manualApproval: true } });
    const id = String(created.body.id);
    expect((await real.call('POST', `/api/rollouts/${id}/start`, operator, {})).status).toBe(200);
    await vi.waitFor(() => expect(lamps.filter((d) => d.pending.length > 0)).toHaveLength(1), { timeout: 10_000 });
    for (const d of lamps) await d.release();
    await vi.waitFor(async () => expect((await real.call('GET', `/api/rollouts/${id}`, operator)).body.state).toMatchObject({ kind: 'PAUSED', reason: { kind: 'approval' } }));
    const op = await login(real.gw.api, operator);
    const html = await (await op.get(`/rollouts/${id}`)).text();
    expect(html).toContain('Paused for approval: wave 1 passed its gates.');
    expect(html).toContain(`action="/rollouts/${id}/advance"`);
    expect(html).toContain('Approve next wave');
    expect(html).not.toContain(`action="/rollouts/${id}/resume"`);
    expect((await real.call('POST', `/api/rollouts/${id}/abort`, operator, {})).status).toBe(200);
    for (const d of lamps) d.pending.splice(0);

    // error gate: > 5 % failed once ≥ 1 finished (success gate low, so the wave itself does not fail first)
    const seq2 = await real.call('POST', '/api/pinsets', real.admin, { target: { fleet: 'lamps' }, hosts: [{ name: HOST, includeSubdomains: false, pins: [PIN_B, PIN_C], enforce: true }] });
    const gated = await real.call('POST', '/api/rollouts', operator, { pinsetId: seq2.body.id, plan: { waves: [{ limit: { count: 3 } }, { limit: { percent: 100 } }] }, gates: { soakMs: 0, successPercent: 10, errorPercent: 5, errorMinFinished: 1 } });
    const eid = String(gated.body.id);
    expect((await real.call('POST', `/api/rollouts/${eid}/start`, operator, {})).status).toBe(200);
    await vi.waitFor(() => expect(lamps.filter((d) => d.pending.length > 0)).toHaveLength(3), { timeout: 10_000 });
    const [a, b] = lamps.filter((d) => d.pending.length > 0);
    await a?.reject('E_STORAGE');
    await vi.waitFor(async () => expect((await real.call('GET', `/api/rollouts/${eid}`, operator)).body.state).toMatchObject({ kind: 'PAUSED', reason: { kind: 'error-gate' } }));
    await b?.release();
    await vi.waitFor(async () => expect((await real.call('GET', `/api/rollouts/${eid}`, operator)).body.executions.byKind.VERIFIED).toBe(1));
    const paused = await (await op.get(`/rollouts/${eid}`)).text();
    expect(paused).toContain('Paused by the error gate: at the pause, 1 of 1 finished devices had failed.');
    expect(paused).toContain('now 1 of 2 finished failed (50 %)');
    expect((await real.call('POST', `/api/rollouts/${eid}/abort`, operator, {})).status).toBe(200);
    for (const d of lamps) d.pending.splice(0);
  });

  it('chromium: a stale form lands back on the rollout with the error and stays live; relative times tick', async () => {
    const id = await newRollout([{ name: 'all', limit: { percent: 100 } }]);
    const ctx = await browser.newContext({ viewport: { width: 1400, height: 900 } });
    const page = await ctx.newPage();
    try {
      await page.clock.install({ time: Date.now() });
      await page.goto(`${real.url}/rollouts/${id}`);
      await page.fill('#token', operator);
      await page.click('button[type=submit]');
      await page.waitForURL(`${real.url}/rollouts/${id}`);
      await page.click(`form[action="/rollouts/${id}/start"] button`);
      await page.waitForSelector('[data-rollout-state="RUNNING"]');
      expect(await page.textContent('.notice')).toBe('Rollout started.');
      // a button from a stale page: resume a running rollout
      await page.evaluate(`(() => {
        const f = document.querySelector('form[action$="/pause"]');
        f.action = '/rollouts/${id}/resume';
        f.submit();
      })()`);
      await page.waitForSelector('.alert-error.notice');
      expect(new URL(page.url()).pathname).toBe(`/rollouts/${id}`);
      expect(await page.textContent('.alert-error.notice')).toContain('The gateway refused to resume');
      await page.waitForSelector('#live-status.live-on');
      const since = page.locator('.state-since time');
      expect(await since.textContent()).toMatch(/^\d+ s ago$/);
      await page.clock.fastForward('03:00');
      await vi.waitFor(async () => expect(await since.textContent()).toBe('3 min ago'));

      // a change between the page's rendering and its event subscription is not missed: the rollout is paused
      // (through the API) while the page's /events request is held back; once live, the page shows PAUSED
      await page.route('**/events', async (route) => {
        await real.call('POST', `/api/rollouts/${id}/pause`, operator, { reason: 'while the page loaded' });
        await route.continue();
      });
      await page.reload();
      await page.waitForSelector('[data-rollout-state="PAUSED"]');
      expect(await page.textContent('.pause-reason')).toContain('while the page loaded');
    } finally {
      await ctx.close();
      await real.call('POST', `/api/rollouts/${id}/abort`, operator, {});
    }
  });
});
