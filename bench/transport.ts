/**
 * Device-transport benchmark (`npm run bench -- transport`, results in bench/results/transport.json): the gateway
 * in this process (real SQLite, real API over HTTP), a real Mosquitto 2 from deploy/mosquitto over TLS, device load
 * from a separate process (bench/ack-load.ts). Measured:
 *  1. enrolment on Mosquitto, end to end: N × `POST /api/devices` (16 in flight) until the broker accepts the last
 *     device's credential (password file rewritten + SIGHUP at most every PINGW_BROKER_RELOAD_MS). Meanwhile a probe
 *     device publishes a QoS 1 message every 20 ms: its worst PUBACK round trip is the longest broker stall.
 *  2. device acks committed per second by one gateway process, embedded broker and Mosquitto side by side: D devices
 *     each publish A acks (W in flight per device); the rate counts `ack` events, which fire after the commit.
 *  3. Mosquitto backlog drain: the gateway stopped while the devices publish (Mosquitto queues the acks in the
 *     gateway's persistent shared-subscription sessions), then started: it reclaims its pool's client ids and
 *     commits the backlog; the rate, and the acks per second of gateway CPU (the machine is shared).
 * Environment: TRANSPORT_BENCH_DEVICES (enrolled, default 10,000), TRANSPORT_BENCH_ACK_DEVICES (default 200),
 * TRANSPORT_BENCH_ACKS (per device, default 50), TRANSPORT_BENCH_WINDOW (default 4).
 */
import { fork } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import mqtt from 'mqtt';
import { topicFor } from '../shared/index';
import { consoleLogger, silentLogger } from '../gateway/logger';
import { startGateway, type RunningGateway } from '../gateway/start';
import { startMosquitto, type TestMosquitto } from '../test/support/mosquitto';

const HERE = resolve(fileURLToPath(new URL('.', import.meta.url)));

function envNum(name: string, def: number): number {
  const raw = process.env[name];
  const v = raw === undefined || raw === '' ? def : Number(raw);
  if (!Number.isInteger(v) || v <= 0) throw new TypeError(`${name}: expected a positive integer, got ${JSON.stringify(raw)}`);
  return v;
}

interface Setup {
  gw: RunningGateway;
  /** Stops the gateway (its broker sessions stay) and starts it again on the same data dir. */
  stopGateway(): Promise<void>;
  startGateway(): Promise<RunningGateway>;
  token: string;
  deviceUrl: string;
  ca: string | undefined;
  stop(): Promise<void>;
}

async function setup(kind: 'embedded' | 'mosquitto'): Promise<Setup> {
  const dir = mkdtempSync(join(tmpdir(), `pingw-bench-${kind}-`));
  const m: TestMosquitto | null = kind === 'mosquitto' ? await startMosquitto() : null;
  const start = () =>
    startGateway(
      {
        dataDir: dir, http: { host: '127.0.0.1', port: 0 }, mqtt: { host: '127.0.0.1', port: 0 }, mqtts: { host: '127.0.0.1', port: 0 },
        ...(m === null ? {} : { broker: { url: m.backendUrl, caFile: m.caFile, passwordFile: m.passwordFile, pidFile: m.pidFile } }),
      },
      { logger: process.env['TRANSPORT_BENCH_VERBOSE'] === '1' ? consoleLogger : silentLogger },
    );
  let running: RunningGateway | null = await start();
  const s: Setup = {
    gw: running, token: readFileSync(running.files.adminToken, 'utf8').trim(),
    deviceUrl: m === null ? `mqtt://127.0.0.1:${running.mqtt!.port}` : m.deviceUrl,
    ca: m?.caPem,
    async stopGateway() {
      await running?.stop();
      running = null;
    },
    async startGateway() {
      running = await start();
      s.gw = running;
      return running;
    },
    async stop() {
      await running?.stop();
      await m?.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return s;
}

async function enrolAll(s: Setup, ids: string[], inFlight = 16): Promise<Map<string, string>> {
  const creds = new Map<string, string>();
  let next = 0;
  const lane = async () => {
    while (next < ids.length) {
      const deviceId = ids[next++]!;
      const res = await fetch(`${s.gw.http.url}/api/devices`, {
        method: 'POST',
        headers: { authorization: `Bearer ${s.token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ deviceId, fleet: 'bench', deviceClass: 'bench' }),
      });
      if (res.status !== 201) throw new Error(`enrolment of ${deviceId}: ${res.status} ${await res.text()}`);
      creds.set(deviceId, ((await res.json()) as { credential: string }).credential);
    }
  };
  await Promise.all(Array.from({ length: inFlight }, lane));
  return creds;
}

async function accepted(s: Setup, deviceId: string, credential: string): Promise<boolean> {
  try {
    const c = await mqtt.connectAsync(s.deviceUrl, {
      clientId: deviceId, username: deviceId, password: credential, reconnectPeriod: 0, protocolVersion: 4, connectTimeout: 5000,
      ...(s.ca !== undefined ? { ca: s.ca, servername: 'localhost' } : {}),
    });
    await c.endAsync();
    return true;
  } catch {
    return false;
  }
}

async function enrolmentOnMosquitto(n: number): Promise<Record<string, unknown>> {
  const s = await setup('mosquitto');
  try {
    const [probeCred] = (await enrolAll(s, ['probe-0'])).values();
    while (!(await accepted(s, 'probe-0', probeCred!))) await new Promise((r) => setTimeout(r, 100));
    const probe = await mqtt.connectAsync(s.deviceUrl, {
      clientId: 'probe-0', username: 'probe-0', password: probeCred!, reconnectPeriod: 0, protocolVersion: 4, ca: s.ca!, servername: 'localhost',
    });
    const rtts: number[] = [];
    let probing = true;
    const probeLoop = (async () => {
      while (probing) {
        const t0 = performance.now();
        await probe.publishAsync(topicFor('probe-0', 'report'), Buffer.from([0xa0]), { qos: 1 }); // malformed on purpose: counted, never stored
        rtts.push(performance.now() - t0);
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    const ids = Array.from({ length: n }, (_, i) => `bench-${String(i).padStart(6, '0')}`);
    const t0 = performance.now();
    const creds = await enrolAll(s, ids);
    const apiDoneMs = performance.now() - t0;
    const last = ids[ids.length - 1]!;
    while (!(await accepted(s, last, creds.get(last)!))) await new Promise((r) => setTimeout(r, 50));
    const endToEndMs = performance.now() - t0;
    probing = false;
    await probeLoop;
    await probe.endAsync();
    const sorted = [...rtts].sort((a, b) => a - b);
    const r = {
      devices: n,
      apiMs: Math.round(apiDoneMs),
      endToEndMs: Math.round(endToEndMs),
      enrolPerSec: Math.round((n * 1000) / endToEndMs),
      probe: {
        samples: rtts.length,
        p50Ms: Math.round(sorted[Math.floor(sorted.length * 0.5)] ?? 0),
        p99Ms: Math.round(sorted[Math.floor(sorted.length * 0.99)] ?? 0),
        maxMs: Math.round(sorted[sorted.length - 1] ?? 0),
        over1s: rtts.filter((x) => x > 1000).length,
      },
    };
    console.log(`enrol ${n} on Mosquitto: API ${r.apiMs} ms, accepted by the broker after ${r.endToEndMs} ms; probe max ${r.probe.maxMs} ms`);
    return r;
  } finally {
    await s.stop();
  }
}

async function ackRate(kind: 'embedded' | 'mosquitto', devices: number, acks: number, window: number): Promise<Record<string, unknown>> {
  const s = await setup(kind);
  const child = fork(join(HERE, 'ack-load.ts'), [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  try {
    const ids = Array.from({ length: devices }, (_, i) => `ack-${String(i).padStart(5, '0')}`);
    const creds = await enrolAll(s, ids);
    const lastId = ids[ids.length - 1]!;
    while (!(await accepted(s, lastId, creds.get(lastId)!))) await new Promise((r) => setTimeout(r, 100));
    const total = devices * acks;
    let committed = 0;
    let lastCommitAt = 0;
    s.gw.events.on('ack', () => {
      committed++;
      lastCommitAt = performance.now();
    });
    const message = (want: (m: unknown) => boolean) =>
      new Promise<unknown>((ok, fail) => {
        const on = (m: unknown) => want(m) && (child.off('message', on), ok(m));
        child.on('message', on);
        child.once('exit', (code) => fail(new Error(`load generator exited (${code})`)));
      });
    const ready = message((m) => m === 'ready');
    child.send({ url: s.deviceUrl, ...(s.ca !== undefined ? { ca: s.ca } : {}), devices: ids.map((id) => ({ deviceId: id, credential: creds.get(id)! })), acks, window });
    await ready;
    const done = message((m) => typeof m === 'object' && m !== null && 'done' in m);
    const t0 = performance.now();
    child.send('go');
    const load = (await done) as { done: number; ms: number };
    while (committed < total && performance.now() - t0 < 120_000) await new Promise((r) => setTimeout(r, 20));
    const ms = lastCommitAt - t0;
    const r = { broker: kind, devices, acksPerDevice: acks, window, acks: total, committed, ms: Math.round(ms), committedPerSec: Math.round((committed * 1000) / ms), devicePubackMs: Math.round(load.ms) };
    console.log(`${kind.padEnd(9)} ${committed}/${total} acks committed in ${r.ms} ms: ${r.committedPerSec.toLocaleString('en-US')} acks/s`);
    return r;
  } finally {
    if (child.exitCode === null) child.kill('SIGTERM');
    await s.stop();
  }
}

/**
 * Mosquitto only: the gateway is stopped while the devices publish (Mosquitto PUBACKs them and queues them in the
 * gateway's shared-subscription sessions), then started again: the rate at which it reclaims its sessions and
 * commits the backlog is the gateway's own ingest rate, without the load generator in the way.
 */
async function backlogDrain(devices: number, acks: number, window: number): Promise<Record<string, unknown>> {
  const s = await setup('mosquitto');
  const child = fork(join(HERE, 'ack-load.ts'), [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  try {
    const ids = Array.from({ length: devices }, (_, i) => `drain-${String(i).padStart(5, '0')}`);
    const creds = await enrolAll(s, ids);
    const lastId = ids[ids.length - 1]!;
    while (!(await accepted(s, lastId, creds.get(lastId)!))) await new Promise((r) => setTimeout(r, 100));
    await s.stopGateway();
    const message = (want: (m: unknown) => boolean) =>
      new Promise<unknown>((ok, fail) => {
        const on = (m: unknown) => want(m) && (child.off('message', on), ok(m));
        child.on('message', on);
        child.once('exit', (code) => fail(new Error(`load generator exited (${code})`)));
      });
    const ready = message((m) => m === 'ready');
    child.send({ url: s.deviceUrl, ca: s.ca, devices: ids.map((id) => ({ deviceId: id, credential: creds.get(id)! })), acks, window });
    await ready;
    const done = message((m) => typeof m === 'object' && m !== null && 'done' in m);
    child.send('go');
    await done; // every ack is PUBACKed by Mosquitto and waits in the gateway's sessions
    const total = devices * acks;
    const t0 = performance.now();
    const cpu0 = process.cpuUsage();
    const gw = await s.startGateway(); // the backlog starts flowing while it starts: count rows, not events
    const db = new Database(gw.files.database, { readonly: true });
    const count = db.prepare<[], { n: number; first: number | null; last: number | null }>(
      `select count(*) as n, min(received_at) as first, max(received_at) as last from acks where device_id like 'drain-%'`,
    );
    let row = count.get()!;
    while (row.n < total && performance.now() - t0 < 120_000) {
      await new Promise((r) => setTimeout(r, 20));
      row = count.get()!;
    }
    const ms = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    db.close();
    const spanMs = Math.max(1, (row.last ?? 0) - (row.first ?? 0));
    const r = {
      broker: 'mosquitto', acks: total, committed: row.n, msFromStart: Math.round(ms), receiptSpanMs: spanMs,
      committedPerSec: Math.round((row.n * 1000) / spanMs),
      // the machine is shared: acks per second of gateway CPU (start-up included) is what one free core would do
      gatewayCpuMs: Math.round((cpu.user + cpu.system) / 1000),
      acksPerGatewayCpuSecond: Math.round((row.n * 1e6) / (cpu.user + cpu.system)),
    };
    console.log(`mosquitto backlog: ${r.committed}/${total} acks committed within ${r.msFromStart} ms of the start, ${r.receiptSpanMs} ms from first to last: ${r.committedPerSec.toLocaleString('en-US')} acks/s, ${r.acksPerGatewayCpuSecond.toLocaleString('en-US')} per gateway CPU-second`);
    return r;
  } finally {
    if (child.exitCode === null) child.kill('SIGTERM');
    await s.stop();
  }
}

export async function runTransportBench(): Promise<Record<string, unknown>> {
  const devices = envNum('TRANSPORT_BENCH_ACK_DEVICES', 200);
  const acks = envNum('TRANSPORT_BENCH_ACKS', 50);
  const window = envNum('TRANSPORT_BENCH_WINDOW', 4);
  const ackRates = [await ackRate('embedded', devices, acks, window), await ackRate('mosquitto', devices, acks, window)];
  const drain = await backlogDrain(devices, acks, window);
  const enrolment = await enrolmentOnMosquitto(envNum('TRANSPORT_BENCH_DEVICES', 10_000));
  return {
    note: 'gateway in the bench process, device load in a child process, Mosquitto 2.0.11 as a third process, all on the same 2 cores',
    ackRates,
    drain,
    enrolment,
  };
}
