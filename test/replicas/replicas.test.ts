/**
 * Gateway replicas (docs/scale.md "Replicas"), all real: PostgreSQL 15, Mosquitto 2, two gateway processes
 * (`gateway/main.ts`) and simulated devices (device-sim) that verify what they install. One leader drives rollouts;
 * SSE and commands work on any replica; the leader SIGKILLed mid-rollout is replaced within 10 s, the rollout
 * completes and every ack whose PUBACK a device received is in the registry exactly once; a SIGSTOPped leader is
 * replaced and, once resumed, steps down without writing.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeviceStorage } from '../../device-sim/device-storage';
import { SimulatedDevice } from '../../device-sim/simulated-device';
import { formatPin, fromHex, pinFromCertificate, type Ack } from '../../shared/index';
import { removeDir, tempDir } from '../gateway/helpers/test-gateway';
import { startMosquitto, type TestMosquitto } from '../support/mosquitto';
import { startPostgres, type PgServer } from '../support/postgres';
import { waitFor } from '../support/wait-for';
import { ReplicaProcess } from './replica-process';

const N = 16;
const FLEET = 'rep';

let server: PgServer;
let m: TestMosquitto;
let dir: string;
let dbUrl: string;
let db: pg.Client;
let token: string;
const replicas = new Map<string, ReplicaProcess>();
const devices: SimulatedDevice[] = [];
/** The simulator's record: acks whose PUBACK the device received, `${device}|${seq}|${status}`. */
const acked = new Map<string, number>();
let brokerPin: string;
let keyset: { version: number; publicKeys: Uint8Array[] };

const start = async (name: string, env: Record<string, string> = {}) => {
  const r = await ReplicaProcess.start({ name, dataDir: join(dir, 'gateway'), databaseUrl: dbUrl, mosquitto: m, env: { PINGW_LEADER_STALL_MS: '3000', ...env } });
  replicas.set(name, r);
  return r;
};
const api = async <T>(r: ReplicaProcess, method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> => {
  const res = await fetch(`${r.apiUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, body: (await res.json()) as T };
};
const holder = async () => (await db.query<{ holder: string | null; epoch: string }>(`select holder, epoch from leader_epochs where role = 'leader'`)).rows[0];
const leaderOf = async (): Promise<ReplicaProcess | undefined> => {
  const h = (await holder())?.holder;
  return [...replicas.values()].find((r) => r.alive && h === `${hostname()}:${r.pid}`);
};
const pinsetDraft = (fleet: string, pins: string[]) => ({
  target: { fleet },
  hosts: [{ name: 'localhost', includeSubdomains: false, pins, enforce: true, port: m.devicePort }],
});
const randomPin = () => `sha256/${randomBytes(32).toString('base64')}`;
const rollout = async (r: ReplicaProcess, id: string) => (await api<{ state: { kind: string } }>(r, 'GET', `/api/rollouts/${id}`)).body;
const executions = async (id: string) =>
  Object.fromEntries((await db.query<{ state: string; n: string }>(`select kind as state, count(*) as n from rollout_executions where rollout_id = $1 group by kind`, [id])).rows.map((x) => [x.state, Number(x.n)]));

beforeAll(async () => {
  server = await startPostgres();
  dbUrl = server.url(await server.createDatabase());
  m = await startMosquitto();
  dir = tempDir('pingw-replicas-');
  brokerPin = formatPin(pinFromCertificate(readFileSync(join(m.dir, 'broker-cert.pem'))));
  // replica a starts first (it creates the shared signer key, admin token and keyset), then b
  const a = await start('a');
  await waitFor('a to lead', () => a.output.includes('this replica leads'));
  await start('b');
  token = readFileSync(join(dir, 'gateway', 'admin.token'), 'utf8').trim();
  db = new pg.Client({ connectionString: dbUrl });
  await db.connect();
}, 180_000);

afterAll(async () => {
  await Promise.allSettled(devices.map((d) => d.stop()));
  for (const r of replicas.values()) {
    if (r.alive) r.signal('SIGCONT');
    await r.kill('SIGTERM');
  }
  await db?.end();
  await m?.stop();
  await server?.stop();
  if (dir !== undefined) removeDir(dir);
});

describe('gateway replicas on one PostgreSQL and one Mosquitto', () => {
  it('exactly one replica leads; an SSE client on the follower sees events caused on the leader, and a command sent to the follower is run by the leader', async () => {
    const leader = (await leaderOf()) as ReplicaProcess;
    const follower = [...replicas.values()].find((r) => r !== leader) as ReplicaProcess;
    expect(leader.name).toBe('a');
    expect(follower.output).not.toContain('this replica leads');

    const seen: { type: string; [k: string]: unknown }[] = [];
    const abort = new AbortController();
    const res = await fetch(`${follower.apiUrl}/api/events`, { headers: { authorization: `Bearer ${token}` }, signal: abort.signal });
    expect(res.status).toBe(200);
    void (async () => {
      const decoder = new TextDecoder();
      let buf = '';
      try {
        for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
          buf += decoder.decode(chunk, { stream: true });
          let i: number;
          while ((i = buf.indexOf('\n\n')) >= 0) {
            const data = buf.slice(0, i).split('\n').find((l) => l.startsWith('data: '));
            buf = buf.slice(i + 2);
            if (data !== undefined) seen.push(JSON.parse(data.slice(6)) as { type: string });
          }
        }
      } catch {
        // aborted at the end of the test
      }
    })();
    await waitFor('the SSE stream to be ready', () => seen.some((e) => e.type === 'ready'));

    // caused on the leader: a device enrolled there changes the fleet's coverage
    expect((await api(leader, 'POST', '/api/devices', { deviceId: 'sse-1', fleet: 'sse', deviceClass: 'c' })).status).toBe(201);
    await waitFor('the coverage event of fleet sse on the follower', () => seen.some((e) => e.type === 'coverage' && e.fleet === 'sse'));

    // a rollout created and started through the follower: the leader runs the start, its rollout event reaches the follower
    const ps = await api<{ id: number }>(follower, 'POST', '/api/pinsets', pinsetDraft('sse', [brokerPin, randomPin()]));
    expect(ps.status).toBe(201);
    const created = await api<{ id: string }>(follower, 'POST', '/api/rollouts', { pinsetId: ps.body.id });
    expect(created.status).toBe(201);
    const started = await api(follower, 'POST', `/api/rollouts/${created.body.id}/start`);
    expect(started.status).toBe(200);
    await waitFor('the rollout event on the follower', () => seen.some((e) => e.type === 'rollout' && e.id === created.body.id && e.action === 'start'));
    expect((await rollout(follower, created.body.id)).state.kind).not.toBe('DRAFT');
    // a refused command comes back with the leader's code
    const again = await api<{ error: { code: string } }>(follower, 'POST', `/api/rollouts/${created.body.id}/start`);
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('E_TRANSITION');
    expect((await api(follower, 'POST', `/api/rollouts/${created.body.id}/abort`, { reason: 'test over' })).status).toBe(200);
    await waitFor('the abort on the follower', () => seen.some((e) => e.type === 'rollout' && e.id === created.body.id && e.action === 'abort'));
    // each event once on the follower's stream
    const starts = seen.filter((e) => e.type === 'rollout' && e.id === created.body.id && e.action === 'start');
    expect(starts).toHaveLength(1);
    abort.abort();
  }, 120_000);

  it('SIGKILL of the leader mid-rollout: the other replica takes over within 10 s, the rollout completes, every PUBACKed ack is counted exactly once', async () => {
    const a = replicas.get('a') as ReplicaProcess;
    // devices enrolled, factory set {broker, backup} published and installed
    const creds = new Map<string, string>();
    for (let i = 0; i < N; i++) {
      const id = `rep-${String(i).padStart(2, '0')}`;
      const res = await api<{ credential: string }>(a, 'POST', '/api/devices', { deviceId: id, fleet: FLEET, deviceClass: 'c' });
      expect(res.status).toBe(201);
      creds.set(id, res.body.credential);
    }
    const factory = await api<{ id: number }>(a, 'POST', '/api/pinsets', pinsetDraft(FLEET, [brokerPin, randomPin()]));
    expect(factory.status).toBe(201);
    const envelope = new Uint8Array(Buffer.from((await api<{ envelope: string }>(a, 'GET', `/api/pinsets/${factory.body.id}`)).body.envelope, 'base64'));
    const ks = (await api<{ version: number; publicKeys: string[] }[]>(a, 'GET', '/api/keysets')).body.at(-1) as { version: number; publicKeys: string[] };
    keyset = { version: ks.version, publicKeys: ks.publicKeys.map(fromHex) };
    const devDir = join(dir, 'devices');
    mkdirSync(devDir, { recursive: true });
    const online = new Set<string>();
    for (const [id, credential] of creds) {
      const d = new SimulatedDevice({
        identity: { deviceId: id, credential, fleet: FLEET, deviceClass: 'c' },
        broker: { hostname: 'localhost', address: '127.0.0.1', port: m.devicePort },
        hostMap: new Map([['localhost', { address: '127.0.0.1', port: m.devicePort }]]),
        storage: new DeviceStorage(devDir, id, { keyset, envelope }),
        reconnectMinMs: 100,
        reconnectMaxMs: 1000,
        onEvent: (e) => {
          if (e.type === 'online') online.add(id);
          if (e.type === 'acked') {
            const k = key(id, e.ack);
            acked.set(k, (acked.get(k) ?? 0) + 1);
          }
        },
      });
      devices.push(d);
      await d.start();
    }
    await waitFor(`${N} devices online`, () => online.size === N, 60_000, 50);

    // the new set, rolled out in waves through the follower's API
    const next = await api<{ id: number; seq: number }>(a, 'POST', '/api/pinsets', pinsetDraft(FLEET, [brokerPin, randomPin()]));
    expect(next.status).toBe(201);
    const b = replicas.get('b') as ReplicaProcess;
    const created = await api<{ id: string }>(b, 'POST', '/api/rollouts', { pinsetId: next.body.id, gates: { soakMs: 1500 } });
    expect(created.status).toBe(201);
    const rid = created.body.id;
    expect((await api(b, 'POST', `/api/rollouts/${rid}/start`)).status).toBe(200);

    // mid-rollout: some devices verified, not all
    await waitFor('the rollout under way', async () => {
      const e = await executions(rid);
      return (e['VERIFIED'] ?? 0) > 0 && (e['VERIFIED'] ?? 0) < N;
    }, 60_000, 50);
    const leader = (await leaderOf()) as ReplicaProcess;
    const survivor = [...replicas.values()].find((r) => r !== leader && r.alive) as ReplicaProcess;
    const epochBefore = Number((await holder())?.epoch);
    const killedAt = Date.now();
    await leader.kill('SIGKILL');
    await waitFor('the survivor to take over', async () => (await leaderOf()) === survivor, 10_000, 20);
    const takeoverMs = Date.now() - killedAt;
    expect(Number((await holder())?.epoch)).toBeGreaterThan(epochBefore); // a new term (one more, unless a loaded machine made a replica stall too)
    process.stdout.write(`replica takeover after SIGKILL of the leader: ${takeoverMs} ms\n`);

    // The killed replica's backend sessions at Mosquitto hold the device messages it had not committed: the
    // survivor takes its leased client ids over when their leases expire and drains them (nothing is restarted).
    await waitFor('the rollout to complete on the survivor', async () => (await rollout(survivor, rid)).state.kind === 'COMPLETED', 90_000, 200).catch(async (err: unknown) => {
      throw new Error(`${String(err)}; executions ${JSON.stringify(await executions(rid))}; survivor:\n${survivor.output.slice(-3000)}`);
    });
    expect(await executions(rid)).toEqual({ VERIFIED: N });
    // applied + verified of seq 2 at least, from every device: the comparison below is not empty
    expect(acked.size).toBeGreaterThanOrEqual(2 * N);
    await waitFor('every PUBACKed ack in the registry', async () => missing().then((x) => x.length === 0), 30_000, 100);
    const rows = (await db.query<{ device_id: string; seq: number; status: string; n: string }>(`select device_id, seq, status, count(*) as n from acks where device_id like 'rep-%' group by device_id, seq, status`)).rows;
    expect(rows.filter((r) => Number(r.n) !== 1)).toEqual([]);
    // every device acked the rolled-out set applied and verified, each once
    expect(rows.filter((r) => r.seq === next.body.seq && r.status === 'verified')).toHaveLength(N);
  }, 240_000);

  it('SIGSTOP of the leader: the other replica takes over; after SIGCONT the frozen one writes nothing and steps down', async () => {
    // two replicas again: the one killed above comes back (it follows; it gets its share of the pool by hand-off)
    for (const r of [...replicas.values()]) if (!r.alive) await start(r.name);
    const leader = (await leaderOf()) as ReplicaProcess;
    const other = [...replicas.values()].find((r) => r !== leader && r.alive) as ReplicaProcess;
    const next = await api<{ id: number; seq: number }>(other, 'POST', '/api/pinsets', pinsetDraft(FLEET, [brokerPin, randomPin()]));
    expect(next.status).toBe(201);
    const created = await api<{ id: string }>(other, 'POST', '/api/rollouts', { pinsetId: next.body.id, gates: { soakMs: 1500 } });
    const rid = created.body.id;
    expect((await api(other, 'POST', `/api/rollouts/${rid}/start`)).status).toBe(200);
    await waitFor('the rollout under way', async () => ((await executions(rid))['VERIFIED'] ?? 0) > 0, 60_000, 50);

    const mark = leader.output.length;
    const epochBefore = Number((await holder())?.epoch);
    leader.signal('SIGSTOP');
    // the frozen leader's lock session goes quiet: PostgreSQL ends it after PINGW_LEADER_STALL_MS (3 s)
    await waitFor('the other replica to take over', async () => (await holder())?.holder === `${hostname()}:${other.pid}`, 20_000, 50);
    expect(Number((await holder())?.epoch)).toBeGreaterThan(epochBefore); // a new term (one more, unless a loaded machine made a replica stall too)
    leader.signal('SIGCONT');
    await waitFor('the resumed ex-leader to step down', () => leader.output.slice(mark).includes('this replica stepped down'), 20_000, 50);
    // it stepped down before (or instead of) writing: any step it still tried was refused by the fence
    const after = leader.output.slice(mark);
    expect(after).toMatch(/lock unconfirmed for \d+ ms|rollout write refused|leader lock session|cannot confirm the lock/);
    expect(after).not.toContain('this replica leads');
    await waitFor('the rollout to complete under the new leader', async () => (await rollout(other, rid)).state.kind === 'COMPLETED', 90_000, 200);
    expect(await executions(rid)).toEqual({ VERIFIED: N });
    expect((await holder())?.holder).toBe(`${hostname()}:${other.pid}`);
    process.stdout.write(`SIGSTOP leader, output after SIGCONT:\n${after.split('\n').filter((l) => /leader|leads|stepped|refused/.test(l)).join('\n')}\n`);
  }, 240_000);

  it("SIGKILL of a follower mid-rollout: the leader keeps the lead, reclaims the follower's backend client ids, the rollout completes, every PUBACKed ack is counted exactly once", async () => {
    for (const r of [...replicas.values()]) if (!r.alive) await start(r.name);
    const leader = await waitFor('a leader', () => leaderOf(), 20_000, 50);
    const follower = [...replicas.values()].find((r) => r !== leader && r.alive) as ReplicaProcess;
    // the follower holds part of the backend pool (its share, handed off by the leader): its sessions matter
    const slotsOf = async (r: ReplicaProcess) =>
      (await db.query<{ slot: number }>(`select slot from backend_leases where holder like $1`, [`${hostname()}/${r.pid}/%`])).rows.map((x) => x.slot);
    await waitFor('the follower to hold backend slots', async () => (await slotsOf(follower)).length > 0, 30_000, 100);
    const epochBefore = Number((await holder())?.epoch);

    const next = await api<{ id: number; seq: number }>(follower, 'POST', '/api/pinsets', pinsetDraft(FLEET, [brokerPin, randomPin()]));
    expect(next.status).toBe(201);
    const created = await api<{ id: string }>(follower, 'POST', '/api/rollouts', { pinsetId: next.body.id, gates: { soakMs: 1500 } });
    expect(created.status).toBe(201);
    const rid = created.body.id;
    expect((await api(follower, 'POST', `/api/rollouts/${rid}/start`)).status).toBe(200);
    await waitFor('the rollout under way', async () => {
      const e = await executions(rid);
      return (e['VERIFIED'] ?? 0) > 0 && (e['VERIFIED'] ?? 0) < N;
    }, 60_000, 50);

    const victimSlots = await slotsOf(follower);
    const killedAt = Date.now();
    await follower.kill('SIGKILL');
    await waitFor("the leader to take the follower's slots over", async () => {
      const mine = await slotsOf(leader);
      return victimSlots.every((x) => mine.includes(x));
    }, 30_000, 100);
    process.stdout.write(`backend slots reclaimed after SIGKILL of a follower: ${Date.now() - killedAt} ms\n`);
    await waitFor('the rollout to complete on the leader', async () => (await rollout(leader, rid)).state.kind === 'COMPLETED', 90_000, 200).catch(async (err: unknown) => {
      throw new Error(`${String(err)}; executions ${JSON.stringify(await executions(rid))}; leader:\n${leader.output.slice(-3000)}`);
    });
    expect(await executions(rid)).toEqual({ VERIFIED: N });
    expect(Number((await holder())?.epoch)).toBe(epochBefore); // the leader never lost the lead
    await waitFor('every PUBACKed ack in the registry', async () => missing().then((x) => x.length === 0), 30_000, 100);
    const rows = (await db.query<{ device_id: string; seq: number; status: string; n: string }>(`select device_id, seq, status, count(*) as n from acks where device_id like 'rep-%' group by device_id, seq, status`)).rows;
    expect(rows.filter((r) => Number(r.n) !== 1)).toEqual([]);
    expect(rows.filter((r) => r.seq === next.body.seq && r.status === 'verified')).toHaveLength(N);
  }, 240_000);
});

function key(deviceId: string, ack: Ack): string {
  return `${deviceId}|${ack.seq}|${ack.status}`;
}

/** Acks the simulator got a PUBACK for that the registry does not hold. */
async function missing(): Promise<string[]> {
  const rows = (await db.query<{ device_id: string; seq: number; status: string }>(`select device_id, seq, status from acks where device_id like 'rep-%'`)).rows;
  const have = new Set(rows.map((r) => `${r.device_id}|${r.seq}|${r.status}`));
  return [...acked.keys()].filter((k) => !have.has(k));
}
