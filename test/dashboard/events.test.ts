/**
 * GET /events: relays the gateway's /api/events as `change` events, or polls the API server-side when the gateway
 * has no event stream. Waits for conditions only (no timed assertions).
 */
import { describe, expect, it } from 'vitest';
import { readSse } from '../../dashboard/routes/events';
import { login } from './helpers';
import { mounted, OPERATOR, ROLLOUT, scenario } from './scenario';
import { waitFor } from '../support/wait-for';

/** Collect the SSE events of a response in the background. */
function collect(body: ReadableStream<Uint8Array>) {
  const events: { name: string; data: string }[] = [];
  const ac = new AbortController();
  const done = readSse(
    body,
    async (name, data) => {
      events.push({ name, data });
    },
    ac.signal,
  ).catch(() => undefined);
  return { events, done, stop: () => ac.abort() };
}

const until = (cond: () => boolean) => waitFor('a live-event condition', cond, 10_000, 5);

describe('live events', () => {
  it('relays the gateway event stream and lets go of it when the browser leaves', async () => {
    const g = scenario();
    const app = mounted(g);
    const s = await login(app, OPERATOR);
    const res = await app.request('/events', { headers: { cookie: s.cookie } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    if (!res.body) throw new Error('no body');
    const { events, stop } = collect(res.body);
    await until(() => events.some((e) => e.name === 'ready') && g.subscriberCount === 1);
    g.ack(ROLLOUT, g.executionsIn(ROLLOUT, 'APPLIED').slice(0, 3), 'VERIFIED');
    await until(() => events.some((e) => e.name === 'change' && JSON.parse(e.data).type === 'coverage'));
    const change = events.find((e) => e.name === 'change');
    expect(JSON.parse(change?.data ?? '{}').type).toBe('rollout');
    stop();
    await until(() => g.subscriberCount === 0);
  });

  it('falls back to polling the API when the gateway has no /api/events', async () => {
    const g = scenario({ events: false });
    const app = mounted(g, { pollIntervalMs: 10 });
    const s = await login(app, OPERATOR);
    const res = await app.request('/events', { headers: { cookie: s.cookie } });
    if (!res.body) throw new Error('no body');
    const { events, stop } = collect(res.body);
    const polls = () => g.calls.filter((c) => c === 'GET /api/rollouts').length;
    await until(() => events.some((e) => e.name === 'ready') && polls() >= 3);
    expect(events[0]).toEqual({ name: 'ready', data: 'poll' });
    expect(events.filter((e) => e.name === 'change')).toEqual([]);
    g.ack(ROLLOUT, g.executionsIn(ROLLOUT, 'DELIVERED').slice(0, 5), 'APPLIED');
    await until(() => events.some((e) => e.name === 'change'));
    expect(JSON.parse(events.find((e) => e.name === 'change')?.data ?? '{}')).toEqual({ type: 'poll' });
    stop();
  });

  it('tells the browser to log in again when the gateway stops accepting the token', async () => {
    const g = scenario();
    const app = mounted(g);
    const s = await login(app, OPERATOR);
    g.tokens.delete(OPERATOR);
    const res = await app.request('/events', { headers: { cookie: s.cookie } });
    if (!res.body) throw new Error('no body');
    const { events, done } = collect(res.body);
    await done;
    expect(events.map((e) => e.name)).toEqual(['logout']);
  });

  it('polling: a token revoked while the page is open ends the stream with logout', async () => {
    const g = scenario({ events: false });
    const app = mounted(g, { pollIntervalMs: 10 });
    const s = await login(app, OPERATOR);
    const res = await app.request('/events', { headers: { cookie: s.cookie } });
    if (!res.body) throw new Error('no body');
    const { events, done } = collect(res.body);
    await until(() => events.some((e) => e.name === 'ready'));
    g.tokens.delete(OPERATOR);
    await done;
    expect(events.map((e) => e.name)).toEqual(['ready', 'logout']);
  });
});
