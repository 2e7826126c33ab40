/** Rollout actions reach the gateway with the operator's token and reason; log-in page with a session. */
import { describe, expect, it } from 'vitest';
import { login } from './helpers';
import { mounted, OPERATOR, ROLLOUT, scenario } from './scenario';

describe('rollout actions', () => {
  it('pause → resume → advance go to the gateway as the operator, with the reason, and are audited there', async () => {
    const g = scenario();
    const app = mounted(g);
    const s = await login(app, OPERATOR);
    for (const [action, reason] of [
      ['pause', 'night freeze'],
      ['resume', ''],
      ['advance', ''],
    ] as const) {
      const res = await s.post(`/rollouts/${ROLLOUT}/${action}`, { _csrf: s.csrf, reason });
      expect(res.status, action).toBe(303);
      expect(res.headers.get('location')).toBe(`/rollouts/${ROLLOUT}`);
    }
    expect(g.audit.filter((e) => e.actor === 'olivia').map((e) => e.action)).toEqual([
      'rollout.start',
      'rollout.pause',
      'rollout.resume',
      'rollout.advance',
    ]);
    expect(g.audit.find((e) => e.action === 'rollout.pause')?.detail).toEqual({ reason: 'night freeze' });
    expect(g.calls).toContain(`POST /api/rollouts/${ROLLOUT}/advance`);
  });

  it('shows retry-failed only when devices failed, and sends it', async () => {
    const g = scenario();
    const app = mounted(g);
    const s = await login(app, OPERATOR);
    expect(await (await s.get(`/rollouts/${ROLLOUT}`)).text()).not.toContain('/retry-failed"');
    g.ack(ROLLOUT, g.executionsIn(ROLLOUT, 'DELIVERED').slice(0, 2), 'REJECTED');
    const html = await (await s.get(`/rollouts/${ROLLOUT}`)).text();
    expect(html).toContain(`action="/rollouts/${ROLLOUT}/retry-failed"`);
    expect(html).toContain('data-confirm=');
    expect(html).toContain('2 failed');
    expect((await s.post(`/rollouts/${ROLLOUT}/retry-failed`)).status).toBe(303);
    expect(g.calls).toContain(`POST /api/rollouts/${ROLLOUT}/retry-failed`);
  });

  it('GET /login with a live session goes straight to the page asked for', async () => {
    const app = mounted(scenario());
    const s = await login(app, OPERATOR);
    const res = await s.get('/login?next=%2Faudit');
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/audit');
  });
});
