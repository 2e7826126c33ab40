/**
 * Rollout actions from the dashboard reach the REAL gateway with the operator's token and reason, and are audited
 * there (real-harness.ts, one gateway for the file; devices over MQTT that hold or reject updates when told).
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { login } from './helpers';
import type { MqttDevice } from './mqtt-device';
import { startRealGateway, type RealGateway } from './real-harness';
import { HOST, PIN_A, PIN_B } from './scenario';

let real: RealGateway;
let operator = '';
const valves: MqttDevice[] = [];

const audit = async (q: string) => (await real.call('GET', `/api/audit?${q}`, real.admin)).body.items as { actor: string; action: string; detail: Record<string, unknown> }[];

async function startedRollout(waves: unknown[]): Promise<string> {
  const set = await real.call('POST', '/api/pinsets', real.admin, { target: { fleet: 'valves' }, hosts: [{ name: HOST, includeSubdomains: false, pins: [PIN_A, PIN_B], enforce: true }] });
  const created = await real.call('POST', '/api/rollouts', operator, { pinsetId: set.body.id, plan: { waves }, gates: { soakMs: 3_600_000, errorMinFinished: 1000 } });
  const id = String(created.body.id);
  expect((await real.call('POST', `/api/rollouts/${id}/start`, operator, {})).status).toBe(200);
  return id;
}

beforeAll(async () => {
  real = await startRealGateway();
  operator = await real.token('olivia', 'operator');
  for (let i = 0; i < 4; i++) valves.push(await real.device(operator, `valve-${i}`, 'valves', '1.0.0'));
  for (const d of valves) d.hold = true;
});

afterAll(async () => {
  await real?.stop();
});

describe('rollout actions', () => {
  it('pause → resume → advance go to the gateway as the operator, with the reason, and are audited there', async () => {
    const id = await startedRollout([{ limit: { count: 2 } }, { limit: { percent: 100 } }]);
    const s = await login(real.gw.api, operator);
    for (const [action, reason] of [
      ['pause', 'night freeze'],
      ['resume', ''],
      ['advance', 'canary looks fine'],
    ] as const) {
      const res = await s.post(`/rollouts/${id}/${action}`, { _csrf: s.csrf, reason });
      expect(res.status, action).toBe(303);
      expect(res.headers.get('location')).toBe(`/rollouts/${id}`);
    }
    // the operator's commands (the waves they started are journalled beside them as rollout.wave)
    const mine = (await audit(`target=${id}&actor=olivia`)).reverse().filter((e) => e.action !== 'rollout.wave');
    expect(mine.map((e) => e.action)).toEqual(['rollout.create', 'rollout.start', 'rollout.pause', 'rollout.resume', 'rollout.advance']);
    expect(mine.find((e) => e.action === 'rollout.pause')?.detail['reason']).toBe('night freeze');
    expect(mine.find((e) => e.action === 'rollout.advance')?.detail['reason']).toBe('canary looks fine');
    const r = (await real.call('GET', `/api/rollouts/${id}`, operator)).body;
    expect(r.state).toMatchObject({ kind: 'RUNNING', wave: 1 });
  });

  it('shows retry-failed only when devices failed, and sends it', async () => {
    const id = await startedRollout([{ limit: { percent: 100 } }]);
    const s = await login(real.gw.api, operator);
    await vi.waitFor(() => expect(valves.every((d) => d.pending.length > 0)).toBe(true), { timeout: 10_000 });
    expect(await (await s.get(`/rollouts/${id}`)).text()).not.toContain('/retry-failed"');
    await valves[0]?.reject('E_WOULD_BRICK');
    await valves[1]?.reject('E_WOULD_BRICK');
    await vi.waitFor(async () => expect((await real.call('GET', `/api/rollouts/${id}`, operator)).body.executions.byKind.REJECTED).toBe(2));
    const html = await (await s.get(`/rollouts/${id}`)).text();
    expect(html).toContain(`action="/rollouts/${id}/retry-failed"`);
    expect(html).toContain('data-confirm=');
    expect(html).toContain('2 failed');
    expect((await s.post(`/rollouts/${id}/retry-failed`)).status).toBe(303);
    expect((await audit(`target=${id}&actor=olivia`)).map((e) => e.action)).toContain('rollout.retry-failed');
  });
});
