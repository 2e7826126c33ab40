/**
 * Issue 13, state that used to live in one replica's memory, on real parts: PostgreSQL 15, Mosquitto 2, two
 * gateway processes (`gateway/main.ts`) and a real HTTP webhook receiver. (a) A drift finding raised on the leader
 * is listed by the follower's API, acknowledged there and seen acknowledged on the leader; after the leader is
 * SIGKILLed, the new leader's run does not raise it again. (b) A webhook whose receiver fails at first is delivered,
 * after the replica that made the failed attempt is SIGKILLed, by the survivor with the same delivery id; a request
 * in flight when its replica is SIGKILLed is sent again by the survivor once the lease ran out.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { formatPin, pinFromCertificate } from '../../shared/index';
import { removeDir, tempDir } from '../gateway/helpers/test-gateway';
import { WebhookReceiver } from '../ops/webhook-receiver';
import { startMosquitto, type TestMosquitto } from '../support/mosquitto';
import { startPostgres, type PgServer } from '../support/postgres';
import { ReplicaProcess } from './replica-process';

let server: PgServer;
let m: TestMosquitto;
let dir: string;
let dbUrl: string;
let db: pg.Client;
let token: string;
let brokerPin: string;
const replicas: ReplicaProcess[] = [];
const receivers: WebhookReceiver[] = [];

// retries 3 s apart: time to kill the replica that made the first attempt before the next one is due
const ENV = { PINGW_LEADER_STALL_MS: '3000', PINGW_WEBHOOK_BACKOFF_MS: '3000', PINGW_WEBHOOK_TIMEOUT_MS: '2000' };
const start = async (name: string) => {
  const r = await ReplicaProcess.start({ name, dataDir: join(dir, 'gateway'), databaseUrl: dbUrl, mosquitto: m, env: ENV });
  replicas.push(r);
  return r;
};
const api = async <T = Record<string, unknown>>(r: ReplicaProcess, method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> => {
  const res = await fetch(`${r.apiUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, body: (await res.json()) as T };
};
/** The replica holding the leader role now (leader_epochs' holder is host:pid). */
const leader = async (): Promise<ReplicaProcess | undefined> => {
  const h = (await db.query<{ holder: string | null }>(`select holder from leader_epochs where role = 'leader'`)).rows[0]?.holder;
  return replicas.find((r) => r.alive && h === `${hostname()}:${r.pid}`);
};
interface FindingBody {
  key: string;
  kind: string;
  fleet: string | null;
  firstSeenAt: number;
  lastSeenAt: number;
  acknowledgedAt: number | null;
  acknowledgedBy: string | null;
}
const findings = async (r: ReplicaProcess) => (await api<{ open: FindingBody[]; resolved: FindingBody[] }>(r, 'GET', '/api/findings?kind=drift&fleet=drift')).body;

beforeAll(async () => {
  server = await startPostgres();
  dbUrl = server.url(await server.createDatabase());
  m = await startMosquitto();
  dir = tempDir('pingw-replica-state-');
  brokerPin = formatPin(pinFromCertificate(readFileSync(join(m.dir, 'broker-cert.pem'))));
  // a starts first (it creates the shared signer key, admin token and keyset) and leads, then b
  const a = await start('a');
  await vi.waitFor(() => expect(a.output).toContain('this replica leads'), { timeout: 30_000, interval: 50 });
  await start('b');
  token = readFileSync(join(dir, 'gateway', 'admin.token'), 'utf8').trim();
  db = new pg.Client({ connectionString: dbUrl });
  await db.connect();
}, 180_000);

afterAll(async () => {
  for (const r of replicas) await r.kill('SIGTERM');
  await Promise.all(receivers.map((r) => r.close()));
  await db?.end();
  await m?.stop();
  await server?.stop();
  if (dir !== undefined) removeDir(dir);
});

describe('replica state in storage (findings, webhook outbox)', () => {
  it('a finding raised on the leader is listed by the follower, acknowledged there, and not raised again by the next leader', async () => {
    const a = (await leader()) as ReplicaProcess;
    expect(a.name).toBe('a');
    const b = replicas.find((r) => r !== a) as ReplicaProcess;
    const receiver = await WebhookReceiver.start();
    receivers.push(receiver);
    const hook = await api<{ secret: string }>(a, 'POST', '/api/webhooks', { url: receiver.url, events: ['finding.raised'] });
    expect(hook.status).toBe(201);
    receiver.secret = hook.body.secret;

    // fleet "drift" pins the broker's key, but its one device never installed the set: coverage 0 % < 95 % target
    expect((await api(a, 'POST', '/api/devices', { deviceId: 'drift-1', fleet: 'drift', deviceClass: 'c' })).status).toBe(201);
    const set = await api(a, 'POST', '/api/pinsets', {
      target: { fleet: 'drift' },
      hosts: [{ name: 'localhost', includeSubdomains: false, pins: [brokerPin, `sha256/${randomBytes(32).toString('base64')}`], enforce: true, port: m.devicePort }],
    });
    expect(set.status).toBe(201);
    expect((await api(a, 'POST', '/api/drift-watch/run')).body).toMatchObject({ raised: 1, open: 1 });

    // the follower never ran the watch: it answers from the registry
    const onB = await findings(b);
    expect(onB.open).toHaveLength(1);
    const f = onB.open[0] as FindingBody;
    expect(f).toMatchObject({ kind: 'drift-low-coverage', fleet: 'drift', acknowledgedAt: null });
    expect(await findings(a)).toEqual(onB);
    // and the run itself, which only the leader made
    const runs = (await api<{ lastRuns: { drift: { trigger: string; raised: number } | null } }>(b, 'GET', '/api/findings')).body.lastRuns;
    expect(runs.drift).toMatchObject({ trigger: 'on-demand', raised: 1 });

    const ack = await api<FindingBody>(b, 'POST', '/api/findings/acknowledge', { key: f.key });
    expect(ack.status).toBe(200);
    expect(ack.body).toMatchObject({ key: f.key, acknowledgedBy: expect.any(String), acknowledgedAt: expect.any(Number) });
    expect((await findings(a)).open[0]).toMatchObject({ key: f.key, acknowledgedAt: ack.body.acknowledgedAt });
    const unknown = await api<{ error: { code: string } }>(b, 'POST', '/api/findings/acknowledge', { key: 'drift:nope' });
    expect([unknown.status, unknown.body.error.code]).toEqual([404, 'E_NOT_FOUND']);
    await vi.waitFor(() => expect(receiver.received.filter((r) => r.type === 'finding.raised')).toHaveLength(1), { timeout: 15_000, interval: 50 });

    // the leader dies; the new leader's run finds the recorded finding by its key: refreshed, not raised again
    await a.kill('SIGKILL');
    await vi.waitFor(async () => expect((await leader())?.name).toBe('b'), { timeout: 10_000, interval: 100 });
    expect((await api(b, 'POST', '/api/drift-watch/run')).body).toMatchObject({ raised: 0, cleared: 0, open: 1 });
    const after = (await findings(b)).open;
    expect(after).toHaveLength(1);
    expect(after[0]).toMatchObject({ key: f.key, firstSeenAt: f.firstSeenAt, acknowledgedAt: ack.body.acknowledgedAt });
    expect((after[0] as FindingBody).lastSeenAt).toBeGreaterThan(f.lastSeenAt);
    await new Promise((ok) => setTimeout(ok, 1500)); // a second finding.raised, were one sent, would arrive meanwhile
    expect(receiver.received.filter((r) => r.type === 'finding.raised')).toHaveLength(1);

    await start('a2'); // two replicas again for the next case
  }, 120_000);

  it('a delivery whose first attempt failed is retried by the survivor after the replica that made it is SIGKILLed, with the same delivery id', async () => {
    const receiver = await WebhookReceiver.start();
    receivers.push(receiver);
    receiver.failFirst = 1;
    const live = replicas.filter((r) => r.alive);
    expect(live).toHaveLength(2);
    const via = live[0] as ReplicaProcess;
    const hook = await api<{ id: number; secret: string }>(via, 'POST', '/api/webhooks', { url: receiver.url, events: ['ping'] });
    expect(hook.status).toBe(201);
    receiver.secret = hook.body.secret;
    // the other replica lists it and sends the ping at once (it reads the registrations again on a miss)
    const other = live[1] as ReplicaProcess;
    expect((await api<{ id: number }[]>(other, 'GET', '/api/webhooks')).body.map((w) => w.id)).toContain(hook.body.id);
    expect((await api(other, 'POST', `/api/webhooks/${hook.body.id}/ping`)).body).toEqual({ queued: 1 });

    await vi.waitFor(() => expect(receiver.received).toHaveLength(1), { timeout: 15_000, interval: 20 });
    const first = receiver.received[0]!;
    expect(first).toMatchObject({ type: 'ping', attempt: 1, check: { ok: true } });
    // the failure is recorded in the outbox: retry due in 3 s, lease given up, lease_holder names who tried
    const row = await vi.waitFor(async () => {
      const r = (await db.query<{ attempts: number; lease_until: string; lease_holder: string; last_error: string }>(
        `select attempts, lease_until, lease_holder, last_error from webhook_outbox where delivery_id = $1`, [first.deliveryId],
      )).rows[0];
      expect(r).toMatchObject({ attempts: 1, lease_until: '0', last_error: 'HTTP 500' });
      return r!;
    }, { timeout: 10_000, interval: 20 });
    const tried = live.find((r) => row.lease_holder.startsWith(`${hostname()}:${r.pid}:`)) as ReplicaProcess;
    expect(tried).toBeDefined();
    const survivor = live.find((r) => r !== tried) as ReplicaProcess;
    expect(tried.output).toContain(first.deliveryId); // "webhook delivery failed, will retry"

    await tried.kill('SIGKILL');
    expect(receiver.received).toHaveLength(1); // the retry was not due yet: what follows is the survivor's
    await vi.waitFor(() => expect(receiver.received).toHaveLength(2), { timeout: 20_000, interval: 50 });
    const second = receiver.received[1]!;
    expect(second).toMatchObject({ type: 'ping', deliveryId: first.deliveryId, attempt: 2, check: { ok: true } });
    expect(second.body.id).toBe(first.deliveryId);
    expect(second.raw).toBe(first.raw); // the same body; only the signature's timestamp may differ
    await vi.waitFor(async () => {
      expect((await db.query(`select 1 from webhook_outbox where delivery_id = $1`, [first.deliveryId])).rowCount).toBe(0);
      expect(survivor.output).toMatch(new RegExp(`webhook delivered after a retry.*${first.deliveryId}`));
    }, { timeout: 10_000, interval: 50 });
    expect((await db.query(`select 1 from webhook_dead_letters where delivery_id = $1`, [first.deliveryId])).rowCount).toBe(0);
    await start('a3'); // two replicas again for the next case
  }, 120_000);

  it('a request in flight when its replica is SIGKILLed is sent again by the survivor once the lease ran out, same delivery id', async () => {
    const receiver = await WebhookReceiver.start();
    receivers.push(receiver);
    receiver.mode = 'hang'; // the first request never gets an answer: its replica dies holding the lease
    const live = replicas.filter((r) => r.alive);
    expect(live).toHaveLength(2);
    const hook = await api<{ id: number; secret: string }>(live[0] as ReplicaProcess, 'POST', '/api/webhooks', { url: receiver.url, events: ['ping'] });
    expect(hook.status).toBe(201);
    receiver.secret = hook.body.secret;
    expect((await api(live[0] as ReplicaProcess, 'POST', `/api/webhooks/${hook.body.id}/ping`)).body).toEqual({ queued: 1 });
    await vi.waitFor(() => expect(receiver.received).toHaveLength(1), { timeout: 15_000, interval: 20 });
    const first = receiver.received[0]!;
    const row = (await db.query<{ attempts: number; lease_until: string; lease_holder: string }>(
      `select attempts, lease_until, lease_holder from webhook_outbox where delivery_id = $1`, [first.deliveryId],
    )).rows[0]!;
    // leased for 2 × PINGW_WEBHOOK_TIMEOUT_MS + 5 s, attempt 1 counted at claim time
    expect(row.attempts).toBe(1);
    expect(Number(row.lease_until)).toBeGreaterThan(Date.now());
    const holder = live.find((r) => row.lease_holder.startsWith(`${hostname()}:${r.pid}:`)) as ReplicaProcess;
    expect(holder).toBeDefined();
    receiver.mode = 'ok';
    await holder.kill('SIGKILL');
    const killedAt = Date.now();
    await vi.waitFor(() => expect(receiver.received).toHaveLength(2), { timeout: 20_000, interval: 50 });
    // not before the lease ran out (the survivor never takes a row another worker holds)
    expect(Date.now()).toBeGreaterThanOrEqual(Number(row.lease_until) - 1000);
    expect(receiver.received[1]).toMatchObject({ deliveryId: first.deliveryId, attempt: 2, raw: first.raw, check: { ok: true } });
    expect(killedAt).toBeLessThan(Number(row.lease_until));
    await vi.waitFor(async () => expect((await db.query(`select 1 from webhook_outbox where delivery_id = $1`, [first.deliveryId])).rowCount).toBe(0), { timeout: 10_000, interval: 50 });
  }, 120_000);
});
