/**
 * `npm run bench -- storm` (issue 17): on the real gateway, in this process, with a CPU-spinning child process to
 * keep the machine busy:
 *  1. cold start: 2,000 enrolled devices connect at once over TLS (firmware-like: 30 s to CONNACK, retry after
 *     2 s); figures: attempts per device, seconds until all are connected, credential checks run / dropped;
 *  2. credential guessing: an honest device's hello → update latency, quiet and while another address floods
 *     wrong passwords for its id; figures: median / p95 of both, guesses per second, how many were throttled.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import mqtt from 'mqtt';
import { connectDevice, mqttUrl } from '../test/gateway/helpers/device-client';
import { api, enrol, pinsetDraft, removeDir, startTestGateway, tempDir } from '../test/gateway/helpers/test-gateway';
import { waitFor } from '../test/gateway/helpers/wait-for';

const DEVICES = Number(process.env['STORM_DEVICES'] ?? 2000);

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
    const ca = readFileSync(gw.files.tlsCert);
    const security = async () => (await api(gw, 'GET', '/api/security', { token: gw.adminToken })).body.broker;

    // 1. cold start
    const s0 = await security();
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    let attempts = 0;
    const clients = creds.map((password, i) => {
      const id = `cs-${String(i).padStart(5, '0')}`;
      attempts += 1;
      const c = mqtt.connect(`mqtts://127.0.0.1:${gw.mqtts.port}`, { ca, clientId: id, username: id, password, protocolVersion: 4, connectTimeout: 30_000, reconnectPeriod: 2000 });
      c.on('reconnect', () => (attempts += 1));
      c.on('error', () => {});
      return c;
    });
    await waitFor('all connected', () => clients.every((c) => c.connected), 600_000, 100);
    const coldStartS = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    const s1 = await security();
    await Promise.all(clients.map((c) => c.endAsync(true)));
    const coldStart = {
      devices: DEVICES,
      transport: 'MQTT over TLS, client timeout 30 s, retry after 2 s',
      attempts,
      attemptsPerDevice: Math.round((attempts / DEVICES) * 1000) / 1000,
      secondsToAllConnected: Math.round(coldStartS * 10) / 10,
      cpuSecondsThisProcess: Math.round(((cpu.user + cpu.system) / 1e6) * 10) / 10,
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
    const sample = async () => {
      const start = performance.now();
      const dev = await connectDevice(mqttUrl(gw), honestId, honestCred, { hello: { fleet: 'fleet-cs' } });
      await waitFor('update', () => dev.received.update.length > 0, 30_000, 1);
      const ms = performance.now() - start;
      await dev.end();
      return ms;
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
