/**
 * `npm run bench -- storm` (issue 17): on the real gateway, in this process, with a CPU-spinning child process per
 * core to keep the machine busy:
 *  1. cold start: 2,000 enrolled devices connect at once over TLS (firmware-like: 30 s to CONNACK, then
 *     exponential back-off with jitter); figures: attempts per device, seconds until all are connected, credential
 *     checks run / dropped, handshakes started / timed out, and the API's latency (p50/p95/p99) during the storm
 *     seen from another process, with the gateway's event-loop delay;
 *  2. credential guessing: an honest device's hello → update latency, quiet and while another address floods
 *     wrong passwords for its id; figures: median / p95 of both, guesses per second, how many were throttled.
 */
import { spawn } from 'node:child_process';
import { availableParallelism, loadavg } from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import mqtt from 'mqtt';
import { encodeHello, topicFor } from '../shared/index';
import { mqttUrl } from '../test/gateway/helpers/device-client';
import { api, enrol, pinsetDraft, removeDir, startTestGateway, tempDir } from '../test/gateway/helpers/test-gateway';
import { waitUntil as waitFor } from '../device-sim/wait-until';
import { startColdStartFleet } from '../test/support/cold-start-fleet';

/**
 * STORM_DEVICES (default 2,000) devices in the cold start; STORM_ATTACK=0 skips the guessing part; STORM_HASH=scrypt
 * runs it with the credential hash of before issue 17 (scrypt N=4096) instead of the default `$7$` PBKDF2.
 */
const DEVICES = Number(process.env['STORM_DEVICES'] ?? 2000);
const OLD_HASH = process.env['STORM_HASH'] === 'scrypt';

/**
 * The API as an operator's browser sees it during the storm, from its own process: GET /api/fleets sent every
 * 100 ms on a fixed schedule whatever the previous answer did (no coordinated omission: a stall shows in every
 * request sent during it). Prints the latencies (ms; -1 = failed) and its own event-loop delay as JSON on SIGTERM:
 * an almost idle node process on the same machine, i.e. the delay the OS scheduler alone imposes (the floor for
 * the gateway's figures).
 */
const API_PROBE = `
import { monitorEventLoopDelay } from 'node:perf_hooks';
const loop = monitorEventLoopDelay({ resolution: 10 });
loop.enable();
const lat = [];
const tick = setInterval(() => {
  const t0 = performance.now();
  fetch(process.env.URL, { headers: { authorization: 'Bearer ' + process.env.TOKEN } })
    .then((r) => r.text().then(() => lat.push(r.ok ? performance.now() - t0 : -1)), () => lat.push(-1));
}, 100);
process.on('SIGTERM', () => {
  clearInterval(tick);
  const ms = (ns) => Math.round(ns / 1e6);
  console.log(JSON.stringify({ lat, loop: { p50: ms(loop.percentile(50)), p99: ms(loop.percentile(99)), max: ms(loop.max) } }));
  process.exit(0);
});
`;

/** 8 concurrent raw CONNECTs with wrong passwords from 127.0.0.2, each waiting for its CONNACK. */
const ATTACKER = `
import { connect } from 'node:net';
import mqttPacket from 'mqtt-packet';
let n = 0, stop = false;
process.on('SIGTERM', () => { stop = true; });
const once = () => new Promise((resolve) => {
  const s = connect({ port: Number(process.env.PORT), host: '127.0.0.1', localAddress: '127.0.0.2' }, () => {
    s.write(mqttPacket.generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clientId: process.env.DEVICE,
      username: process.env.DEVICE, password: Buffer.from('guess-' + n), clean: true, keepalive: 30 }));
  });
  s.on('data', () => s.destroy());
  s.on('error', () => {});
  s.on('close', () => { n++; resolve(); });
});
const worker = async () => { while (!stop) await once(); };
console.log('started');
await Promise.all(Array.from({ length: 8 }, worker));
console.log('guesses ' + n);
`;

const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return Math.round(s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? 0);
};

export async function runStormBench(): Promise<Record<string, unknown>> {
  const dir = tempDir('pingw-storm-');
  const gw = await startTestGateway(dir, OLD_HASH ? { credentialHash: 'scrypt', credentialScryptN: 4096 } : {});
  // the machine kept busy as in the suite's test: one CPU-spinning process per core besides whatever else runs
  const spinners = Array.from({ length: availableParallelism() }, () => spawn(process.execPath, ['-e', 'for(;;){}'], { stdio: 'ignore' }));
  try {
    const creds: string[] = [];
    for (let i = 0; i < DEVICES; i++) creds.push(await enrol(gw, `cs-${String(i).padStart(5, '0')}`, 'fleet-cs'));
    const security = async () => (await api(gw, 'GET', '/api/security', { token: gw.adminToken })).body.broker;

    // 1. cold start: the devices run in their own process (their TLS and MQTT CPU is not the gateway's), and so
    // does the API probe
    const s0 = await security();
    const devicesList = creds.map((password, i) => ({ id: `cs-${String(i).padStart(5, '0')}`, password }));
    const probe = spawn(process.execPath, ['--input-type=module', '-e', API_PROBE], {
      env: { ...process.env, URL: `${gw.http.url}/api/fleets`, TOKEN: gw.adminToken }, stdio: ['ignore', 'pipe', 'inherit'],
    });
    let probeOut = '';
    probe.stdout!.on('data', (d: Buffer) => (probeOut += d.toString()));
    const loop = monitorEventLoopDelay({ resolution: 10 });
    loop.enable();
    const cpu0 = process.cpuUsage();
    // the devices connect from two processes of their own (test/support/cold-start-fleet.ts, as the suite's test)
    const fleet = startColdStartFleet({ port: gw.mqtts.port, caFile: gw.files.tlsCert, devices: devicesList, workers: 2, dir });
    const run = await fleet.run(600_000);
    const coldStartS = run.seconds;
    const cpu = process.cpuUsage(cpu0);
    loop.disable();
    const ended = (p: typeof probe) => new Promise<void>((resolve) => p.once('exit', () => resolve()));
    const probeEnded = ended(probe);
    probe.kill('SIGTERM');
    await probeEnded;
    if (!run.allConnected) throw new Error(`cold start did not converge: ${JSON.stringify(run)}`);
    const attempts = run.attempts;
    const probed = JSON.parse(probeOut.trim() || '{"lat":[],"loop":null}') as { lat: number[]; loop: Record<string, number> | null };
    const latencies = probed.lat;
    const ok = latencies.filter((x) => x >= 0);
    const s1 = await security();
    const tls0 = s0.tls ?? {}, tls1 = s1.tls ?? {};
    const tlsDelta = (k: string) => (tls1[k] ?? 0) - (tls0[k] ?? 0);
    const coldStart = {
      devices: DEVICES,
      loadAverage1mAtEnd: Math.round((loadavg()[0] ?? 0) * 10) / 10,
      transport: 'MQTT over TLS from 2 device processes, client timeout 30 s, then back-off 1 s doubling to 60 s with equal jitter (device-sim/device-link.ts)',
      attempts,
      attemptsPerDevice: Math.round((attempts / DEVICES) * 1000) / 1000,
      credentialHash: OLD_HASH ? 'scrypt N=4096 (before issue 17)' : '$7$ PBKDF2-SHA512, 101 iterations',
      failedAttempts: run.failed,
      secondsToAllConnected: Math.round(coldStartS * 10) / 10,
      connectsPerSecond: Math.round(DEVICES / coldStartS),
      gatewayCpuSeconds: Math.round(((cpu.user + cpu.system) / 1e6) * 10) / 10,
      gatewayCpuMsPerDevice: Math.round(((cpu.user + cpu.system) / 1e3 / DEVICES) * 100) / 100,
      credentialChecksRun: s1.checksRun - s0.checksRun,
      droppedClientGone: s1.droppedGone - s0.droppedGone,
      refusedBusy: s1.refusedBusy - s0.refusedBusy,
      tls: { handshakesStarted: tlsDelta('handshakesStarted'), handshakeTimeouts: tlsDelta('timedOut'), skippedGoneWhileWaiting: tlsDelta('skippedGone'), expiredWaiting: tlsDelta('expiredWaiting'), refusedFull: tlsDelta('refusedFull') },
      api: {
        probe: 'GET /api/fleets every 100 ms from its own process',
        requests: latencies.length,
        failed: latencies.length - ok.length,
        p50Ms: quantile(ok, 0.5), p95Ms: quantile(ok, 0.95), p99Ms: quantile(ok, 0.99), maxMs: quantile(ok, 1),
      },
      gatewayEventLoopDelayMs: { p50: Math.round(loop.percentile(50) / 1e6), p99: Math.round(loop.percentile(99) / 1e6), max: Math.round(loop.max / 1e6) },
      idleProcessEventLoopDelayMs: probed.loop,
    };
    console.log('cold start', coldStart);
    if (process.env['STORM_ATTACK'] === '0') return { coldStart }; // STORM_ATTACK=0: the cold start alone

    // 2. honest latency during a guessing attack
    const honestId = 'cs-honest';
    const honestCred = await enrol(gw, honestId, 'fleet-cs');
    const p = await api(gw, 'POST', '/api/pinsets', { token: gw.adminToken, body: pinsetDraft('fleet-cs') });
    await api(gw, 'POST', `/api/pinsets/${p.body.id}/deliver`, { token: gw.adminToken, body: { deviceIds: [honestId] } });
    /** One honest log-in: connect, subscribe, hello, until the update arrives (ms); a refused try is retried. */
    const sample = async (): Promise<number> => {
      const start = performance.now();
      for (;;) {
        const ms = await new Promise<number | null>((resolve) => {
          const c = mqtt.connect(mqttUrl(gw), { clientId: honestId, username: honestId, password: honestCred, protocolVersion: 4, reconnectPeriod: 0, connectTimeout: 30_000 });
          c.on('error', () => {});
          c.once('close', () => resolve(null));
          c.on('message', () => {
            resolve(performance.now() - start);
            c.end(true);
          });
          c.once('connect', async () => {
            await c.subscribeAsync([topicFor(honestId, 'update')], { qos: 1 }).catch(() => {});
            const hello = encodeHello({ firmware: '1.0.0', deviceClass: 'class-a', fleet: 'fleet-cs', installedSeq: 0, keysetVersion: 1, installedSha256: new Uint8Array(32) });
            await c.publishAsync(topicFor(honestId, 'hello'), Buffer.from(hello), { qos: 1 }).catch(() => {});
          });
        });
        if (ms !== null) return ms;
      }
    };
    const quiet: number[] = [];
    for (let i = 0; i < 30; i++) quiet.push(await sample());
    // the attacker runs in its own process (its client-side CPU is not this process's), from another address
    const a0 = await security();
    const tA = performance.now();
    const attackerProc = spawn(process.execPath, ['--input-type=module', '-e', ATTACKER], {
      cwd: process.cwd(),
      env: { ...process.env, PORT: String(gw.mqtt!.port), DEVICE: honestId },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    attackerProc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    await waitFor('attack running', () => out.includes('started'), 30_000);
    const underAttack: number[] = [];
    for (let i = 0; i < 30; i++) underAttack.push(await sample());
    const exited = new Promise<void>((resolve) => attackerProc.once('exit', () => resolve()));
    attackerProc.kill('SIGTERM');
    await exited;
    const guesses = Number(/guesses (\d+)/.exec(out)?.[1] ?? 0);
    const attackS = (performance.now() - tA) / 1000;
    const a1 = await security();
    const attack = {
      loadAverage1mAtEnd: Math.round((loadavg()[0] ?? 0) * 10) / 10,
      honestHelloToUpdateMs: { quiet: { median: quantile(quiet, 0.5), p95: quantile(quiet, 0.95) }, underAttack: { median: quantile(underAttack, 0.5), p95: quantile(underAttack, 0.95) } },
      guesses,
      guessesPerSecond: Math.round(guesses / attackS),
      credentialChecksForGuesses: a1.authFailures - a0.authFailures,
      throttledAfterConnect: a1.throttled - a0.throttled,
      closedAtAcceptWithoutMqtt: a1.closedAtAccept - a0.closedAtAccept,
    };
    console.log('attack', JSON.stringify(attack));
    return { coldStart, attack };
  } finally {
    for (const spinner of spinners) if (spinner.pid !== undefined) process.kill(spinner.pid, 'SIGKILL');
    await gw.stop();
    removeDir(dir);
  }
}
