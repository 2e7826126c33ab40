/**
 * The cold-start harness (issue 17), shared by the suite's 2,000-device test and `npm run bench -- storm`: enrolled
 * devices connect at once over MQTT/TLS from `workers` processes of their own (their TLS and MQTT CPU is not the
 * gateway's, and a starved single client process would miss CONNACKs that did arrive). Each device follows the
 * firmware policy of device-sim/device-link.ts: 30 s to CONNACK, then exponential back-off with equal jitter (1 s
 * doubling, at most 60 s), reset by a good connection. The devices are plain mqtt.js clients (no pin check, no
 * storage): what is measured is the gateway's admission, not the simulator.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** One worker: connects its devices, prints "connected" once all of them are, and its counters as JSON on SIGTERM. */
const WORKER = `
import { readFileSync } from 'node:fs';
import mqtt from 'mqtt';
const ca = readFileSync(process.env.CA);
const devices = JSON.parse(readFileSync(process.env.DEVICES_FILE, 'utf8'));
let attempts = 0, connected = 0;
const failed = { timedOut: 0, refused: 0, closed: 0 };
const clients = new Set();
const backoff = (n) => { const base = Math.min(60000, 1000 * 2 ** Math.min(n, 16)); return Math.round(base / 2 + Math.random() * base / 2); };
const connectOne = (d) => {
  attempts++;
  const t0 = Date.now();
  let refused = false, done = false;
  const c = mqtt.connect('mqtts://127.0.0.1:' + process.env.PORT, { ca, clientId: d.id, username: d.id, password: d.password, protocolVersion: 4, connectTimeout: 30000, reconnectPeriod: 0 });
  clients.add(c);
  c.once('connect', () => { done = true; if (++connected === devices.length) console.log('connected'); });
  c.on('error', (e) => { if (typeof e.code === 'number') refused = true; });
  c.once('close', () => {
    clients.delete(c);
    if (done) return;
    done = true;
    if (refused) failed.refused++; else if (Date.now() - t0 >= 29000) failed.timedOut++; else failed.closed++;
    d.failures = (d.failures ?? 0) + 1;
    setTimeout(() => connectOne(d), backoff(d.failures));
  });
};
for (const d of devices) connectOne(d);
process.on('SIGTERM', () => {
  console.log(JSON.stringify({ attempts, connected, failed }));
  for (const c of clients) c.end(true);
  process.exit(0);
});
`;

export interface ColdStartDevice {
  id: string;
  password: string;
}

export interface ColdStartResult {
  devices: number;
  /** Connection attempts started, every device's first included. */
  attempts: number;
  connected: number;
  failed: { timedOut: number; refused: number; closed: number };
  /** From the first CONNECT until the last device connected (or until stopped). */
  seconds: number;
  allConnected: boolean;
}

export interface ColdStartFleet {
  /** Resolves when every device is connected, or after `timeoutMs`; then stops the workers and sums their counters. */
  run(timeoutMs: number): Promise<ColdStartResult>;
  /** Kills the workers (idempotent; for afterAll). */
  kill(): void;
}

/** Starts `workers` processes that connect `devices` at once to the MQTT/TLS listener on 127.0.0.1:`port`. */
export function startColdStartFleet(o: { port: number; caFile: string; devices: readonly ColdStartDevice[]; workers: number; dir: string }): ColdStartFleet {
  const t0 = performance.now();
  const procs: { child: ChildProcess; out: string; exited: Promise<void> }[] = [];
  for (let w = 0; w < o.workers; w++) {
    const file = join(o.dir, `cold-start-devices-${w}.json`);
    writeFileSync(file, JSON.stringify(o.devices.filter((_, i) => i % o.workers === w)));
    const child = spawn(process.execPath, ['--input-type=module', '-e', WORKER], {
      cwd: ROOT,
      env: { ...process.env, PORT: String(o.port), CA: o.caFile, DEVICES_FILE: file },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const p = { child, out: '', exited: new Promise<void>((resolve) => child.once('exit', () => resolve())) };
    child.stdout!.on('data', (d: Buffer) => (p.out += d.toString()));
    procs.push(p);
  }
  const kill = () => {
    for (const p of procs) if (p.child.exitCode === null && p.child.pid !== undefined) p.child.kill('SIGKILL');
  };
  return {
    kill,
    async run(timeoutMs) {
      const allIn = () => procs.every((p) => p.out.includes('connected'));
      await new Promise<void>((resolve) => {
        const poll = setInterval(() => {
          if (allIn() || performance.now() - t0 > timeoutMs) {
            clearInterval(poll);
            resolve();
          }
        }, 50);
      });
      const seconds = (performance.now() - t0) / 1000;
      const allConnected = allIn();
      for (const p of procs) p.child.kill('SIGTERM');
      await Promise.all(procs.map((p) => p.exited));
      const sum: ColdStartResult = { devices: o.devices.length, attempts: 0, connected: 0, failed: { timedOut: 0, refused: 0, closed: 0 }, seconds, allConnected };
      for (const p of procs) {
        const line = p.out.trim().split('\n').pop() ?? '';
        const c = JSON.parse(line.startsWith('{') ? line : '{}') as Partial<Pick<ColdStartResult, 'attempts' | 'connected' | 'failed'>>;
        sum.attempts += c.attempts ?? 0;
        sum.connected += c.connected ?? 0;
        for (const k of ['timedOut', 'refused', 'closed'] as const) sum.failed[k] += c.failed?.[k] ?? 0;
      }
      return sum;
    },
  };
}
