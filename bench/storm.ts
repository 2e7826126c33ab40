/**
 * `npm run bench -- storm` (issue 17): on the real gateway, in this process, with a CPU-spinning child process to
 * keep the machine busy:
 *  1. cold start: 2,000 enrolled devices connect at once over TLS (firmware-like: 30 s to CONNACK, retry after
 *     2 s); figures: attempts per device, seconds until all are connected, credential checks run / dropped;
 *  2. credential guessing: an honest device's hello → update latency, quiet and while another address floods
 *     wrong passwords for its id; figures: median / p95 of both, guesses per second, how many were throttled.
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { encodeHello, topicFor } from '../shared/index';
import { mqttUrl } from '../test/gateway/helpers/device-client';
import { api, enrol, pinsetDraft, removeDir, startTestGateway, tempDir } from '../test/gateway/helpers/test-gateway';
import { waitUntil as waitFor } from '../device-sim/wait-until';

const DEVICES = Number(process.env['STORM_DEVICES'] ?? 2000);

/** Every device connects at once over TLS, firmware-like (30 s to CONNACK, retry 2 s later); prints the attempts. */
const DEVICES_SCRIPT = `
import { readFileSync } from 'node:fs';
import mqtt from 'mqtt';
const ca = readFileSync(process.env.CA);
const devices = JSON.parse(readFileSync(process.env.DEVICES_FILE, 'utf8'));
let attempts = 0, connected = 0;
const clients = devices.map(({ id, password }) => {
  attempts++;
  const c = mqtt.connect('mqtts://127.0.0.1:' + process.env.PORT, { ca, clientId: id, username: id, password, protocolVersion: 4, connectTimeout: 30000, reconnectPeriod: 2000 });
  let once = false;
  c.on('connect', () => { if (!once) { once = true; if (++connected === devices.length) console.log('connected ' + attempts); } });
  c.on('reconnect', () => attempts++);
  c.on('error', () => {});
  return c;
});
process.on('SIGTERM', () => { for (const c of clients) c.end(true); process.exit(0); });
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
  const gw = await startTestGateway(dir, { credentialScryptN: 4096 });
  const spinner = spawn(process.execPath, ['-e', 'for(;;){}'], { stdio: 'ignore' });
  try {
    const creds: string[] = [];
    for (let i = 0; i < DEVICES; i++) creds.push(await enrol(gw, `cs-${String(i).padStart(5, '0')}`, 'fleet-cs'));
    const security = async () => (await api(gw, 'GET', '/api/security', { token: gw.adminToken })).body.broker;

    // 1. cold start: the devices run in their own process (their TLS and MQTT CPU is not the gateway's)
    const s0 = await security();
    const credFile = join(dir, 'storm-devices.json');
    writeFileSync(credFile, JSON.stringify(creds.map((password, i) => ({ id: `cs-${String(i).padStart(5, '0')}`, password }))));
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const devicesProc = spawn(process.execPath, ['--input-type=module', '-e', DEVICES_SCRIPT], {
      cwd: process.cwd(),
      env: { ...process.env, PORT: String(gw.mqtts.port), CA: gw.files.tlsCert, DEVICES_FILE: credFile },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let devOut = '';
    devicesProc.stdout!.on('data', (d: Buffer) => (devOut += d.toString()));
    await waitFor('all connected', () => /connected (\d+)/.test(devOut), 600_000, 100);
    const attempts = Number(/connected (\d+)/.exec(devOut)?.[1] ?? 0);
    devicesProc.kill('SIGTERM');
    const coldStartS = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    const s1 = await security();
    const coldStart = {
      devices: DEVICES,
      loadAverage1mAtEnd: Math.round((loadavg()[0] ?? 0) * 10) / 10,
      transport: 'MQTT over TLS, client timeout 30 s, retry after 2 s',
      attempts,
      attemptsPerDevice: Math.round((attempts / DEVICES) * 1000) / 1000,
      secondsToAllConnected: Math.round(coldStartS * 10) / 10,
      gatewayCpuSeconds: Math.round(((cpu.user + cpu.system) / 1e6) * 10) / 10,
      credentialChecksRun: s1.checksRun - s0.checksRun,
      droppedClientGone: s1.droppedGone - s0.droppedGone,
      refusedBusy: s1.refusedBusy - s0.refusedBusy,
    };
    console.log('cold start', coldStart);

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
    if (spinner.pid !== undefined) process.kill(spinner.pid, 'SIGKILL');
    await gw.stop();
    removeDir(dir);
  }
}
