/**
 * GET /events on the REAL gateway: relays the gateway's /api/events as `change` events; when /api/events cannot be
 * had (here a real HTTP reverse proxy in front of the gateway that refuses server-sent events with 501, as some
 * proxies do) it polls the API server-side instead. Waits for conditions only (no timed assertions).
 */
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { GatewayApi } from '../../dashboard/api/api-client';
import { createDashboard } from '../../dashboard/app';
import { readSse } from '../../dashboard/routes/events';
import { memoryLogger } from '../../gateway/logger';
import { waitFor } from '../support/wait-for';
import { login } from './helpers';
import type { MqttDevice } from './mqtt-device';
import { startRealGateway, type RealGateway } from './real-harness';
import { HOST, PIN_A, PIN_B } from './scenario';

let real: RealGateway;
let proxy: Server;
let proxyUrl = '';
/** Requests the proxy forwarded ("GET /api/rollouts" …). */
const forwarded: string[] = [];
const lamps: MqttDevice[] = [];

/** Collect the SSE events of a response in the background. */
function collect(body: ReadableStream<Uint8Array>) {
  const events: { name: string; data: string }[] = [];
  const ac = new AbortController();
  const done = readSse(body, async (name, data) => void events.push({ name, data }), ac.signal).catch(() => undefined);
  return { events, done, stop: () => ac.abort() };
}

const until = (cond: () => boolean) => waitFor('a live-event condition', cond, 10_000, 5);

/** A dashboard that reaches the gateway through the SSE-refusing proxy, polling every 10 ms. */
const behindProxy = () => createDashboard({ api: new GatewayApi({ fetch: (req) => fetch(req), baseUrl: proxyUrl }), secureCookies: false, pollIntervalMs: 10, logger: memoryLogger() });

async function deliverNewSet(): Promise<void> {
  const set = await real.call('POST', '/api/pinsets', real.admin, { target: { fleet: 'lamps' }, hosts: [{ name: HOST, includeSubdomains: false, pins: [PIN_A, PIN_B], enforce: true }] });
  await real.call('POST', `/api/pinsets/${set.body.id}/deliver`, real.admin, {});
  await vi.waitFor(() => expect(lamps.every((d) => d.verified.includes(set.body.seq))).toBe(true), { timeout: 10_000 });
}

beforeAll(async () => {
  real = await startRealGateway();
  const operator = await real.token('olivia', 'operator');
  for (let i = 0; i < 2; i++) lamps.push(await real.device(operator, `lamp-${i}`, 'lamps', '1.0'));
  const target = new URL(real.url);
  proxy = createServer((req, res) => {
    if (req.url?.startsWith('/api/events')) {
      res.writeHead(501, { 'content-type': 'text/plain' }).end('server-sent events are not proxied here');
      return;
    }
    forwarded.push(`${req.method} ${req.url?.split('?')[0]}`);
    const up = request({ host: target.hostname, port: target.port, path: req.url, method: req.method, headers: req.headers }, (r) => {
      res.writeHead(r.statusCode ?? 502, r.headers);
      r.pipe(res);
    });
    up.on('error', () => res.writeHead(502).end());
    req.pipe(up);
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
});

afterAll(async () => {
  proxy?.closeAllConnections();
  await new Promise<void>((resolve) => (proxy ? proxy.close(() => resolve()) : resolve()));
  await real?.stop();
});

describe('live events', () => {
  it('relays the gateway event stream and lets go of it when the browser leaves', async () => {
    const app = real.gw.api;
    const s = await login(app, await real.token('rita', 'viewer'));
    const before = real.gw.hub.subscriberCount;
    const res = await app.request('/events', { headers: { cookie: s.cookie } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    if (!res.body) throw new Error('no body');
    const { events, stop } = collect(res.body);
    await until(() => events.some((e) => e.name === 'ready') && real.gw.hub.subscriberCount === before + 1);
    expect(events[0]).toMatchObject({ name: 'ready', data: 'relay' });
    await deliverNewSet();
    await until(() => events.some((e) => e.name === 'change' && JSON.parse(e.data).type === 'coverage'));
    stop();
    await until(() => real.gw.hub.subscriberCount === before);
  });

  it('falls back to polling the API when /api/events cannot be had', async () => {
    const app = behindProxy();
    const s = await login(app, await real.token('paul', 'viewer'));
    const res = await app.request('/events', { headers: { cookie: s.cookie } });
    if (!res.body) throw new Error('no body');
    const { events, stop } = collect(res.body);
    const polls = () => forwarded.filter((c) => c === 'GET /api/rollouts').length;
    const start = polls();
    await until(() => events.some((e) => e.name === 'ready') && polls() >= start + 3);
    expect(events[0]).toEqual({ name: 'ready', data: 'poll' });
    expect(events.filter((e) => e.name === 'change')).toEqual([]);
    await deliverNewSet();
    await until(() => events.some((e) => e.name === 'change'));
    expect(JSON.parse(events.find((e) => e.name === 'change')?.data ?? '{}')).toEqual({ type: 'poll' });
    stop();
  });

  it('tells the browser to log in again when the gateway stops accepting the token', async () => {
    const app = real.gw.api;
    const s = await login(app, await real.token('lena', 'viewer'));
    await real.call('POST', '/api/tokens/lena/revoke', real.admin, {});
    const res = await app.request('/events', { headers: { cookie: s.cookie } });
    if (!res.body) throw new Error('no body');
    const { events, done } = collect(res.body);
    await done;
    expect(events.map((e) => e.name)).toEqual(['logout']);
  });

  it('polling: a token revoked while the page is open ends the stream with logout', async () => {
    const app = behindProxy();
    const s = await login(app, await real.token('pia', 'viewer'));
    const res = await app.request('/events', { headers: { cookie: s.cookie } });
    if (!res.body) throw new Error('no body');
    const { events, done } = collect(res.body);
    await until(() => events.some((e) => e.name === 'ready'));
    await real.call('POST', '/api/tokens/pia/revoke', real.admin, {});
    await done;
    expect(events.map((e) => e.name)).toEqual(['ready', 'logout']);
  });
});
