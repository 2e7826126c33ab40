/** The issue 5 routes: role checks, bad bodies and queries (400 with a code), 409 E_TRANSITION, OpenAPI, SSE. */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { api, createToken, pinsetDraft, removeDir, startTestGateway, tempDir, type TestGateway } from '../gateway/helpers/test-gateway';
import { PIN_B } from './helpers/sim-device';

let dir: string;
let gw: TestGateway;
const tok: Record<'viewer' | 'publisher' | 'operator', string> = { viewer: '', publisher: '', operator: '' };
let pinsetId = 0;

beforeAll(async () => {
  dir = tempDir();
  gw = await startTestGateway(dir);
  for (const role of ['viewer', 'publisher', 'operator'] as const) tok[role] = await createToken(gw, `t-${role}`, role);
  pinsetId = (await api(gw, 'POST', '/api/pinsets', { token: gw.adminToken, body: pinsetDraft('fleet-api') })).body.id;
});
afterAll(async () => {
  await gw.stop();
  removeDir(dir);
});

const call = (method: string, path: string, token?: string, body?: unknown) => api(gw, method, path, { ...(token === undefined ? {} : { token }), ...(body === undefined ? {} : { body }) });
const code = (r: { body: any }) => r.body?.error?.code;

const PIN = encodeURIComponent(PIN_B);
const READS = [
  '/api/rollouts',
  '/api/rollouts/r1',
  '/api/fleets/fleet-api/coverage',
  `/api/fleets/fleet-api/rotation-readiness?host=api.example.com&pin=${PIN}`,
  '/api/rotations',
  '/api/telemetry',
  '/api/reports',
  '/api/whoami',
];
const ACTIONS = ['start', 'pause', 'resume', 'abort', 'advance', 'retry-failed'];

describe('roles', () => {
  it('every new read route needs a token and admits a viewer', async () => {
    const r1 = await call('POST', '/api/rollouts', tok.operator, { pinsetId });
    expect(r1.status).toBe(201);
    for (const path of READS) {
      expect((await call('GET', path)).status, path).toBe(401);
      expect((await call('GET', path, tok.viewer)).status, path).toBe(200);
    }
  });

  it('rollout commands and rotations need the operator role', async () => {
    for (const token of [tok.viewer, tok.publisher]) {
      expect(code(await call('POST', '/api/rollouts', token, { pinsetId }))).toBe('E_FORBIDDEN');
      for (const a of ACTIONS) expect(code(await call('POST', `/api/rollouts/r1/${a}`, token, {})), a).toBe('E_FORBIDDEN');
      expect(code(await call('POST', '/api/rotations', token, { fleet: 'fleet-api', host: 'api.example.com', pin: PIN_B }))).toBe('E_FORBIDDEN');
    }
    expect((await call('POST', '/api/rotations', undefined, {})).status).toBe(401);
  });

  it('whoami names the token', async () => {
    expect((await call('GET', '/api/whoami', tok.viewer)).body).toEqual({ name: 't-viewer', role: 'viewer' });
  });
});

describe('bad input', () => {
  it.each([
    ['no pinsetId', {}],
    ['pinsetId not a number', { pinsetId: 'x' }],
    ['unknown field', { pinsetId: 1, colour: 'red' }],
    ['plan without waves', { pinsetId: 1, plan: {} }],
    ['a wave without limit', { pinsetId: 1, plan: { waves: [{ name: 'w' }] } }],
    ['gate percent out of range', { pinsetId: 1, gates: { successPercent: 101 } }],
    ['engine: percent 0', { pinsetId: 1, plan: { waves: [{ limit: { percent: 0 } }] } }],
    ['engine: delivery timeout too short', { pinsetId: 1, delivery: { deliveryTimeoutMs: 5 } }],
  ])('POST /api/rollouts: %s → 400 E_BAD_BODY', async (_n, body) => {
    const r = await call('POST', '/api/rollouts', tok.operator, body);
    expect([r.status, code(r)]).toEqual([400, 'E_BAD_BODY']);
    expect(r.body.error.issues.length).toBeGreaterThan(0);
  });

  it('POST /api/rollouts: not JSON → E_BAD_JSON, unknown pin set → 404, a second unfinished rollout of the same set → 409', async () => {
    const raw = await api(gw, 'POST', '/api/rollouts', { token: tok.operator, rawBody: '{nope' });
    expect(code(raw)).toBe('E_BAD_JSON');
    expect((await call('POST', '/api/rollouts', tok.operator, { pinsetId: 999 })).status).toBe(404);
    expect(code(await call('POST', '/api/rollouts', tok.operator, { pinsetId }))).toBe('E_CONFLICT');
  });

  it('rollout actions: bad bodies → 400, unknown rollout → 404, illegal transitions → 409 E_TRANSITION', async () => {
    for (const a of ACTIONS) {
      expect(code(await call('POST', `/api/rollouts/r1/${a}`, tok.operator, { reason: 5 })), a).toBe('E_BAD_BODY');
      expect(code(await call('POST', `/api/rollouts/r1/${a}`, tok.operator, { why: 'x' })), a).toBe('E_BAD_BODY');
      expect((await call('POST', `/api/rollouts/nope/${a}`, tok.operator, {})).status, a).toBe(404);
    }
    for (const a of ['pause', 'resume', 'advance', 'retry-failed']) {
      const r = await call('POST', `/api/rollouts/r1/${a}`, tok.operator, {});
      expect([r.status, code(r)], a).toEqual([409, 'E_TRANSITION']);
    }
    // an empty body is fine for actions; the fleet is empty, so the rollout completes at once
    const started = await api(gw, 'POST', '/api/rollouts/r1/start', { token: tok.operator, rawBody: '' });
    expect(started.status).toBe(200);
    expect(started.body.state.kind).toBe('COMPLETED');
    expect(code(await call('POST', '/api/rollouts/r1/start', tok.operator, {}))).toBe('E_TRANSITION');
    expect(code(await call('POST', '/api/rollouts/r1/abort', tok.operator, { reason: 'late' }))).toBe('E_TRANSITION');
  });

  it.each([
    ['/api/rollouts?state=LOST'],
    ['/api/rollouts?colour=red'],
    ['/api/fleets/fleet-api/rotation-readiness?pin=' + PIN],
    ['/api/fleets/fleet-api/rotation-readiness?host=api.example.com&pin=sha256/short'],
    [`/api/fleets/fleet-api/rotation-readiness?host=api.example.com&pin=${PIN}&target=0`],
    [`/api/fleets/fleet-api/rotation-readiness?host=api.example.com&pin=${PIN}&limit=0`],
    ['/api/telemetry?bucketSeconds=90'],
    ['/api/telemetry?since=-1'],
    ['/api/reports?limit=0'],
    ['/api/rotations?limit=x'],
  ])('GET %s → 400 E_BAD_QUERY', async (path) => {
    const r = await call('GET', path, tok.viewer);
    expect([r.status, code(r)]).toEqual([400, 'E_BAD_QUERY']);
  });

  it.each([
    ['no pin', { fleet: 'fleet-api', host: 'api.example.com' }],
    ['bad pin', { fleet: 'fleet-api', host: 'api.example.com', pin: 'sha1/abc' }],
    ['bad host', { fleet: 'fleet-api', host: 'a b', pin: PIN_B }],
    ['force without reason', { fleet: 'fleet-api', host: 'api.example.com', pin: PIN_B, force: true }],
    ['unknown field', { fleet: 'fleet-api', host: 'api.example.com', pin: PIN_B, why: 'x' }],
  ])('POST /api/rotations: %s → 400 E_BAD_BODY', async (_n, body) => {
    const r = await call('POST', '/api/rotations', tok.operator, body);
    expect([r.status, code(r)]).toEqual([400, 'E_BAD_BODY']);
  });
});

describe('documents and streams', () => {
  it('/api/openapi.json lists every new route with its role', async () => {
    const doc = (await call('GET', '/api/openapi.json')).body;
    const expected: [string, string, string][] = [
      ['/api/rollouts', 'post', 'operator'],
      ['/api/rollouts', 'get', 'viewer'],
      ['/api/rollouts/{id}', 'get', 'viewer'],
      ...ACTIONS.map((a): [string, string, string] => [`/api/rollouts/{id}/${a}`, 'post', 'operator']),
      ['/api/fleets/{fleet}/coverage', 'get', 'viewer'],
      ['/api/fleets/{fleet}/rotation-readiness', 'get', 'viewer'],
      ['/api/rotations', 'post', 'operator'],
      ['/api/rotations', 'get', 'viewer'],
      ['/api/telemetry', 'get', 'viewer'],
      ['/api/reports', 'get', 'viewer'],
      ['/api/events', 'get', 'viewer'],
      ['/api/whoami', 'get', 'viewer'],
    ];
    for (const [path, method, role] of expected) expect(doc.paths[path]?.[method]?.['x-required-role'], `${method} ${path}`).toBe(role);
    expect(doc.paths['/api/fleets/{fleet}/rotation-readiness'].get.parameters.map((p: { name: string }) => p.name)).toEqual(
      expect.arrayContaining(['fleet', 'host', 'pin', 'target', 'limit', 'cursor']),
    );
  });

  it('GET /api/events streams small JSON events with a type', async () => {
    const res = await gw.api.request('/api/events', { headers: { authorization: `Bearer ${tok.viewer}` } });
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let text = '';
    const until = async (needle: string) => {
      while (!text.includes(needle)) {
        const { value, done } = await reader.read();
        if (done) throw new Error(`stream ended before ${needle}`);
        text += decoder.decode(value, { stream: true });
      }
    };
    await until('event: ready');
    const other = (await api(gw, 'POST', '/api/pinsets', { token: gw.adminToken, body: pinsetDraft('fleet-sse') })).body.id;
    const created = await call('POST', '/api/rollouts', tok.operator, { pinsetId: other });
    await until(`"id":"${created.body.id}"`);
    const line = text.split('\n').find((l) => l.startsWith('data:') && l.includes(created.body.id))!;
    expect(JSON.parse(line.slice(5))).toMatchObject({ type: 'rollout', id: created.body.id, fleet: 'fleet-sse', state: 'DRAFT' });
    await reader.cancel();
    // the server notices the cancelled stream asynchronously: wait for it to unsubscribe, never a fixed sleep
    await vi.waitFor(() => expect(gw.hub.subscriberCount).toBe(0));
  });
});
