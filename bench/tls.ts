/**
 * `npm run bench -- tls` (issue 14 parts 3 and 4): TLS handshakes per CPU-second and memory per held connection,
 * for bare node:tls, bare aedes over node:tls, the gateway's embedded broker and Mosquitto 2, in the same run,
 * with the same certificate (ECDSA P-256, as the gateway generates it). One server runs at a time, in its own
 * process; a client process drives it.
 *  1. handshakes: LANES connections in flight for TLS_BENCH_SECONDS, full (no session offered) then resumed (the
 *     lane's last session ticket offered). Figure: handshakes per CPU-second of the server process (utime+stime
 *     from /proc), which does not depend on how busy the machine is; handshakes per wall second are noted too.
 *  2. memory: TLS_BENCH_HOLD connections opened and held (bare node:tls: TLS only; the others: MQTT sessions over
 *     TLS, the gateway's with enrolled device credentials); figure: server RSS growth per connection.
 * Environment: TLS_BENCH_SECONDS (default 8), TLS_BENCH_HOLD (default 10,000), TLS_BENCH_LANES (default 16),
 * TLS_BENCH_SERVERS (comma list of bare-tls, bare-aedes, gateway, mosquitto; default all).
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeBrokerKey } from '../device-sim/drill/drill-pki';
import { enrolDevices } from '../device-sim/identities';
import { HANDSHAKES, HOLD } from './tls-clients';
import {
  procCpuSec, procRss, startBareAedes, startBareTls, startGatewayServer, startMosquittoServer, type BenchServer, type ServerFiles,
} from './tls-servers';

const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));
const num = (name: string, def: number) => {
  const v = Number(process.env[name] ?? def);
  if (!Number.isFinite(v) || v <= 0) throw new TypeError(`${name}: expected a positive number`);
  return v;
};

/** Runs a client script to its end (or to "held …" for HOLD) and returns what it printed. */
function runClient(script: string, env: Record<string, string>, until?: RegExp): Promise<{ out: string; stop: () => void }> {
  return new Promise((ok, fail) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    const stop = () => {
      if (child.exitCode === null) child.kill('SIGKILL');
    };
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (until?.test(out)) ok({ out, stop });
    });
    child.once('exit', (code) => (code === 0 || until !== undefined ? ok({ out, stop }) : fail(new Error(`client exited with ${code}: ${out}`))));
  });
}

interface HandshakeFigures {
  handshakes: number;
  resumed: number;
  errors: number;
  protocol: string | null;
  serverCpuSeconds: number;
  perServerCpuSecond: number;
  perWallSecond: number;
  /** Client (device side) CPU per handshake, ms. */
  clientCpuMsPerHandshake: number;
}

async function handshakes(server: BenchServer, mode: 'full' | 'resumed', seconds: number, lanes: number): Promise<HandshakeFigures> {
  const cpu0 = await procCpuSec(server.pid);
  const t0 = performance.now();
  const { out } = await runClient(HANDSHAKES, { PORT: String(server.port), MODE: mode, LANES: String(lanes), DURATION_MS: String(seconds * 1000) });
  const wall = (performance.now() - t0) / 1000;
  const cpu = (await procCpuSec(server.pid)) - cpu0;
  const { clientCpuSeconds, ...r } = JSON.parse(out.trim().split('\n').pop() ?? '{}') as { handshakes: number; resumed: number; errors: number; protocol: string | null; clientCpuSeconds: number };
  const f = { ...r, serverCpuSeconds: +cpu.toFixed(2), perServerCpuSecond: cpu > 0 ? Math.round(r.handshakes / cpu) : 0, perWallSecond: Math.round(r.handshakes / wall), clientCpuMsPerHandshake: r.handshakes > 0 ? +((clientCpuSeconds * 1000) / r.handshakes).toFixed(2) : 0 };
  console.log(`${server.name.padEnd(14)} ${mode.padEnd(8)} ${String(f.perServerCpuSecond).padStart(6)} handshakes per server CPU-s, ${f.perWallSecond}/s wall (${r.handshakes}, ${r.resumed} resumed, ${r.errors} errors, ${r.protocol}; client ${f.clientCpuMsPerHandshake} ms CPU each)`);
  return f;
}

async function memory(server: BenchServer, count: number, lanes: number, credsFile: string | null) {
  const before = await procRss(server.pid);
  const kind = server.name === 'bare node:tls' ? 'tls' : 'mqtt';
  const t0 = performance.now();
  const { out, stop } = await runClient(HOLD, {
    PORT: String(server.port), COUNT: String(count), LANES: String(lanes), KIND: kind, ...(credsFile ? { CREDS_FILE: credsFile } : {}),
  }, /held \d+ failed \d+/);
  try {
    const seconds = (performance.now() - t0) / 1000;
    await new Promise((r) => setTimeout(r, 2000)); // let the server settle (its last CONNACKs, timers)
    const after = await procRss(server.pid);
    const [, held, failed] = /held (\d+) failed (\d+)/.exec(out)!.map(Number) as [number, number, number];
    const f = { kind, held, failed, secondsToOpen: +seconds.toFixed(1), rssBeforeMiB: +(before / 2 ** 20).toFixed(1), rssAfterMiB: +(after / 2 ** 20).toFixed(1), kibPerConnection: held > 0 ? +((after - before) / held / 1024).toFixed(1) : null };
    console.log(`${server.name.padEnd(14)} memory   ${f.kibPerConnection} KiB per held ${kind} connection (${held} held, ${failed} failed, ${f.secondsToOpen} s to open)`);
    return f;
  } finally {
    stop();
  }
}

const STARTERS: Record<string, (f: ServerFiles) => Promise<BenchServer>> = {
  'bare-tls': startBareTls,
  'bare-aedes': startBareAedes,
  gateway: (f) => startGatewayServer(f),
  mosquitto: startMosquittoServer,
};

export async function runTlsBench(): Promise<Record<string, unknown>> {
  const seconds = num('TLS_BENCH_SECONDS', 8);
  const hold = Math.round(num('TLS_BENCH_HOLD', 10_000));
  const lanes = Math.round(num('TLS_BENCH_LANES', 16));
  const names = (process.env['TLS_BENCH_SERVERS'] ?? Object.keys(STARTERS).join(',')).split(',');
  const dir = await mkdtemp(join(tmpdir(), 'pingw-bench-tls-'));
  const key = await makeBrokerKey(join(dir, 'pki'), 'broker', 'localhost');
  const files: ServerFiles = { dir, certFile: key.certFile, keyFile: key.keyFile, root: ROOT };
  const results: Record<string, unknown> = {};
  const loadAtStart = loadavg().map((x) => +x.toFixed(2));
  try {
    for (const name of names) {
      const start = STARTERS[name];
      if (start === undefined) throw new TypeError(`TLS_BENCH_SERVERS: unknown server ${name}`);
      const server = await start(files);
      try {
        const full = await handshakes(server, 'full', seconds, lanes);
        const resumed = await handshakes(server, 'resumed', seconds, lanes);
        let credsFile: string | null = null;
        if (server.gateway !== undefined) {
          const ids = await enrolDevices({
            api: server.gateway.apiUrl, token: server.gateway.adminToken, count: hold, fleet: 'bench-tls', deviceClass: 'bench',
            prefix: 'tls-', cacheFile: join(dir, 'identities.json'),
          });
          credsFile = join(dir, 'creds.json');
          await writeFile(credsFile, JSON.stringify(ids));
        }
        results[name] = { full, resumed, memory: await memory(server, hold, 64, credsFile), loadAverage1m: +(loadavg()[0] ?? 0).toFixed(1) };
      } finally {
        await server.stop();
      }
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  type R = { full: HandshakeFigures; resumed: HandshakeFigures; memory: { kibPerConnection: number | null } };
  const r = (n: string) => results[n] as R | undefined;
  const ratio = (a: number | null | undefined, b: number | null | undefined) => (a && b ? +(a / b).toFixed(2) : null);
  const ratios = {
    gatewayFullVsBareTls: ratio(r('gateway')?.full.perServerCpuSecond, r('bare-tls')?.full.perServerCpuSecond),
    gatewayResumedVsBareTls: ratio(r('gateway')?.resumed.perServerCpuSecond, r('bare-tls')?.resumed.perServerCpuSecond),
    mosquittoFullVsBareTls: ratio(r('mosquitto')?.full.perServerCpuSecond, r('bare-tls')?.full.perServerCpuSecond),
    resumedVsFullGateway: ratio(r('gateway')?.resumed.perServerCpuSecond, r('gateway')?.full.perServerCpuSecond),
    gatewayMemoryVsBareAedes: ratio(r('gateway')?.memory.kibPerConnection, r('bare-aedes')?.memory.kibPerConnection),
    mosquittoMemoryVsBareAedes: ratio(r('mosquitto')?.memory.kibPerConnection, r('bare-aedes')?.memory.kibPerConnection),
  };
  console.log('ratios', ratios);
  return { certificate: 'ECDSA P-256 self-signed, TLS ≥ 1.2', seconds, lanes, hold, loadAverageAtStart: loadAtStart, servers: results, ratios };
}
