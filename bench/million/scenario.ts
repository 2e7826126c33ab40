import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fromHex } from '../../shared/index';
import { openRegistry } from '../../gateway/registry/open-registry';
import { startGateway, type RunningGateway } from '../../gateway/start';
import type { Logger } from '../../gateway/logger';
import { DeviceFleetModel, deviceIdOf, fateCounts, fateOf, type FleetSpec } from './device-model';
import { inThreadDevices, workerDevices, type DeviceSide } from './device-side';
import { bareRatios, runBareFanout, type BareResult } from './bare-fanout';
import { Sampler, type Sample } from './sampler';
import { SocketlessTransport } from './socketless-transport';

/**
 * One run of the million-device bench (issue 14 part 5): N devices enrolled in the registry, the real gateway
 * (startGateway: registry, ingest writer, protocol handlers, rollout driver and engine, coverage counters, API)
 * with the socketless transport in place of the broker; 95 % of the devices connect and say hello, then a
 * rollout with the default plan's waves (soak 0) takes the fleet to a new pin set while the rotation gate is
 * asked through the API once a second.
 */
export interface ScenarioOptions {
  devices: number;
  /** null: the SQLite file in a temp dir (the default); else a PostgreSQL URL of an empty database. */
  databaseUrl: string | null;
  /** Worker threads for the devices; 0 = in the caller's thread. */
  deviceWorkers: number;
  /** Devices verify each signature ('full') or memoise the verify answer per exact bytes ('memo'); device-model.ts. */
  signatureCheck: 'full' | 'memo';
  /** Device messages handled at once (a broker's bounded inbound queue). */
  maxInFlight: number;
  /** Give up waiting for the rollout after this long (the result says it did not finish). */
  maxSeconds: number;
  sampleEveryMs: number;
  /** Also run the bare fan-out on the same devices after the gateway (bare-fanout.ts): the ratio's baseline. */
  bare: boolean;
  log?: (line: string) => void;
}

export const FLEET = 'bench';
const HOST = 'api.example.com';
const pin = (n: number) => 'sha256/' + Buffer.alloc(32, n).toString('base64');
const [OLD_PIN, NEW_PIN, STRAY_PIN] = [pin(1), pin(2), pin(9)];

/** A logger that counts (a million devices make thousands of identical warnings) and keeps the first few lines. */
function countingLogger(): Logger & { counts: Record<string, number>; first: string[] } {
  const counts: Record<string, number> = {};
  const first: string[] = [];
  const at = (level: string) => (message: string, context?: Record<string, unknown>) => {
    counts[`${level} ${message}`] = (counts[`${level} ${message}`] ?? 0) + 1;
    if (level === 'ERROR' && first.length < 5) first.push(`${message} ${JSON.stringify(context ?? {})}`);
  };
  return { info: at('INFO'), warn: at('WARN'), error: at('ERROR'), counts, first };
}

async function call(gw: RunningGateway, token: string, method: string, path: string, body?: unknown): Promise<any> {
  const headers: Record<string, string> = { authorization: `Bearer ${token}` };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await gw.api.request(path, { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  const json: unknown = await res.json();
  if (res.status >= 300) throw new Error(`${method} ${path}: HTTP ${res.status} ${JSON.stringify(json)}`);
  return json;
}

async function seed(dataDir: string, url: string | null, n: number): Promise<number> {
  const t = performance.now();
  const r = await openRegistry({ file: join(dataDir, 'registry.sqlite'), url, readUrl: null, poolSize: 10 }, { now: () => Date.now() });
  try {
    for (let i = 0; i < n; i += 10_000) {
      const chunk = Array.from({ length: Math.min(10_000, n - i) }, (_, k) => ({
        id: deviceIdOf(i + k), fleet: FLEET, deviceClass: 'bench-class', labels: [], credentialHash: 'bench', createdAt: Date.now(),
      }));
      await r.devices.insertMany(chunk);
    }
  } finally {
    await r.close();
  }
  return performance.now() - t;
}

export async function runScenario(o: ScenarioOptions): Promise<Record<string, unknown>> {
  const log = o.log ?? (() => {});
  const n = o.devices;
  const fates = fateCounts(n);
  const dataDir = mkdtempSync(join(tmpdir(), 'pingw-million-'));
  let gw: RunningGateway | null = null;
  let devices: DeviceSide | null = null;
  try {
    const seedMs = await seed(dataDir, o.databaseUrl, n);
    log(`enrolled ${n.toLocaleString('en-US')} devices in ${(seedMs / 1000).toFixed(1)} s`);
    const logger = countingLogger();
    let transport: SocketlessTransport | null = null;
    gw = await startGateway(
      {
        dataDir, http: { host: '127.0.0.1', port: 0 }, mqtt: null, mqtts: { host: '127.0.0.1', port: 0 },
        metrics: { port: 'off' }, database: { url: o.databaseUrl, readUrl: null, poolSize: 10 },
      },
      {
        logger,
        // the live check and the drift watch see the host serving the old key (the new set pins old + new)
        fetchServerPins: async () => {
          const leaf = fromHex(Buffer.from(OLD_PIN.slice(7), 'base64').toString('hex'));
          return { leaf, chain: [leaf] };
        },
        transport: (handlers) => (transport = new SocketlessTransport(handlers, n, o.maxInFlight)),
      },
    );
    const t = transport as SocketlessTransport | null;
    if (t === null) throw new Error('the gateway did not take the bench transport');
    const token = readFileSync(gw.files.adminToken, 'utf8').trim();
    const keysets = (await call(gw, token, 'GET', '/api/keysets')) as { version: number; publicKeys: string[] }[];
    const keyset = keysets.at(-1);
    if (keyset === undefined) throw new Error('the gateway has no keyset');
    const spec: FleetSpec = { n, signatureCheck: o.signatureCheck, fleet: FLEET, deviceClass: 'bench-class', keyset, host: HOST, strayPin: STRAY_PIN };
    const nowSeconds = () => Math.floor(Date.now() / 1000);
    devices = o.deviceWorkers > 0 ? workerDevices(spec, nowSeconds, o.deviceWorkers) : inThreadDevices(spec, nowSeconds);
    t.attach(devices);

    // the fleet comes online: every device but the offline ones connects and says hello (nothing installed yet)
    const helloPayload = new DeviceFleetModel(spec).hello();
    let cpu = process.cpuUsage();
    let t0 = performance.now();
    const online = Array.from({ length: n }, (_, i) => i).filter((i) => fateOf(i) !== 'offline');
    t.connect(online, helloPayload);
    await t.idle();
    const connectMs = performance.now() - t0;
    const connectCpu = process.cpuUsage(cpu);
    log(`${online.length.toLocaleString('en-US')} devices connected and said hello in ${(connectMs / 1000).toFixed(1)} s`);

    const published = await call(gw, token, 'POST', '/api/pinsets', {
      target: { fleet: FLEET }, hosts: [{ name: HOST, includeSubdomains: false, pins: [OLD_PIN, NEW_PIN], enforce: true }],
    });
    const pinsetId = published.id as number;
    const rollout = await call(gw, token, 'POST', '/api/rollouts', {
      pinsetId,
      // soak 0 (issue 14); the rate at the engine's maximum so the bench measures the gateway, not the token bucket;
      // success gate 80 %: 6 % of this fleet never verify (5 % offline, 1 % rejecters), and a canary of 5 devices
      // must tolerate one of them; the error gate judged over ≥ 1,000 finished devices (10 is noise at this size)
      gates: { soakMs: 0, successPercent: 80, errorMinFinished: Math.min(1000, Math.max(10, Math.floor(n / 100))) },
      rate: { perSecond: 100_000, burst: 1_000_000 },
    });
    const id = rollout.id as string;

    const reachedAt: Record<string, number> = {};
    const marks: [string, number][] = [
      ['50%', Math.ceil(n * 0.5)], ['90%', Math.ceil(n * 0.9)], ['allVerifiable', fates.ok],
      ['95%OfAnswering', Math.ceil((n - fates.offline) * 0.95)],
    ];
    t0 = performance.now();
    t.onAckCommitted = (status) => {
      if (status !== 'verified') return;
      const v = t.counts.acks.verified;
      for (const [name, at] of marks) if (v === at) reachedAt[name] = Math.round(performance.now() - t0);
    };
    const readinessPath = `/api/fleets/${FLEET}/rotation-readiness?host=${HOST}&pin=${encodeURIComponent(NEW_PIN)}&target=95`;
    const operator: string[] = [];
    const sampler = new Sampler(t0, async () => (await call(gw as RunningGateway, token, 'GET', readinessPath)) as { verified: number }, () => t.counts.acks.applied + t.counts.acks.verified + t.counts.acks.rejected, (s: Sample) => {
      if (s.t % 10_000 < o.sampleEveryMs) log(`  t=${(s.t / 1000).toFixed(0)} s verified ${s.verified.toLocaleString('en-US')} readiness ${s.readinessMs} ms rss ${s.rssMiB} MiB`);
    });
    cpu = process.cpuUsage();
    sampler.start(o.sampleEveryMs);
    await call(gw, token, 'POST', `/api/rollouts/${id}/start`);
    const deadline = t0 + o.maxSeconds * 1000;
    // the operator follows the rollout's state events (GET /api/rollouts/:id reads every execution: at 1,000,000
    // devices a poll of it would be the bench's own load, not the gateway's)
    let paused = false;
    const off = gw.events.on('rolloutState', (e) => {
      if (e.rolloutId === id) paused = e.to === 'PAUSED';
    });
    while (performance.now() < deadline && (t.counts.acks.verified < fates.ok || t.counts.acks.rejected < fates.rejecter)) {
      await new Promise((ok) => setTimeout(ok, 100));
      if (paused) {
        // an operator looking at a paused rollout whose gates tripped on this fleet's known-bad 6 %: moves it on
        paused = false;
        const action = operator.length % 2 === 0 ? 'resume' : 'advance';
        operator.push(`${action} at ${Math.round(performance.now() - t0)} ms`);
        await call(gw, token, 'POST', `/api/rollouts/${id}/${action}`).catch((e: unknown) => operator.push(String(e)));
      }
    }
    off();
    const rolloutMs = performance.now() - t0;
    const rolloutCpu = process.cpuUsage(cpu);
    await sampler.take();
    sampler.stop();
    const finalState = (await call(gw, token, 'GET', `/api/rollouts/${id}`)) as Record<string, unknown>;
    const readiness = (await call(gw, token, 'GET', readinessPath)) as { verified: number; total: number; coverage: number; ready: boolean };
    const deviceCost = await devices.cost();
    await gw.stop();
    gw = null;
    const registryVerified = await countVerified(dataDir, o.databaseUrl, published.sha256 as string);
    // the bare baseline on fresh devices (factory state), the gateway's own envelope, the same transport bounds
    await devices.close();
    devices = null;
    let bare: BareResult | null = null;
    if (o.bare && t.lastUpdate !== null) {
      bare = await runBareFanout({ spec, envelope: t.lastUpdate, dataDir, deviceWorkers: o.deviceWorkers, maxInFlight: o.maxInFlight, maxSeconds: o.maxSeconds });
      log(`  bare fan-out (no gateway): ${JSON.stringify(bare.reachedSeconds)} s; finished ${String(bare.finished)} in ${bare.seconds} s`);
    }
    const acks = t.counts.acks.applied + t.counts.acks.verified + t.counts.acks.rejected;
    return {
      devices: n,
      registry: o.databaseUrl === null ? 'sqlite' : 'postgres',
      fates,
      enrolSeconds: +(seedMs / 1000).toFixed(1),
      connect: { devices: online.length, seconds: +(connectMs / 1000).toFixed(1), hellosPerSec: Math.round((online.length * 1000) / connectMs), cpuSeconds: +((connectCpu.user + connectCpu.system) / 1e6).toFixed(1) },
      rollout: {
        id, finished: t.counts.acks.verified >= fates.ok && t.counts.acks.rejected >= fates.rejecter,
        seconds: +(rolloutMs / 1000).toFixed(1),
        reachedSeconds: Object.fromEntries(Object.entries(reachedAt).map(([k, v]) => [k, +(v / 1000).toFixed(1)])),
        processCpuSeconds: +((rolloutCpu.user + rolloutCpu.system) / 1e6).toFixed(1),
        acksCommitted: acks, acksCommittedPerSec: Math.round((acks * 1000) / rolloutMs),
        counts: t.counts, operatorActions: operator, state: finalState['state'], waves: finalState['waves'],
        ...sampler.summary(),
      },
      devicesSide: { signatureCheck: o.signatureCheck, verifyMicros: +deviceCost.verifyMicros.toFixed(1), receiptChecks: deviceCost.checks, checkSeconds: +(deviceCost.checkMs / 1000).toFixed(1), microsPerCheck: +((deviceCost.checkMs * 1000) / Math.max(1, deviceCost.checks)).toFixed(1), rejected: deviceCost.rejected, workers: o.deviceWorkers },
      ...(bare === null ? {} : {
        bare,
        ratioToBare: bareRatios(reachedAt, bare.reachedMs),
      }),
      final: { readinessVerified: readiness.verified, readinessTotal: readiness.total, coverage: readiness.coverage, registryVerified },
      log: { counts: logger.counts, firstErrors: logger.first },
      samples: sampler.samples,
    };
  } finally {
    await devices?.close();
    await gw?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** Devices whose verified set is `sha256`, read row by row from the registry (the counters' cross-check). */
async function countVerified(dataDir: string, url: string | null, sha256: string): Promise<number> {
  const r = await openRegistry({ file: join(dataDir, 'registry.sqlite'), url, readUrl: null, poolSize: 2 }, { now: () => Date.now() });
  try {
    let n = 0;
    let cursor: string | undefined;
    for (;;) {
      const page = await r.devices.list({ fleet: FLEET }, 1000, cursor);
      for (const d of page.items) if (d.verifiedSha256 === sha256) n += 1;
      if (page.nextCursor === null) return n;
      cursor = page.nextCursor;
    }
  } finally {
    await r.close();
  }
}

