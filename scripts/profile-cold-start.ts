/**
 * Where the gateway's CPU goes in a cold start (issue 17): enrols DEVICES devices through the registry contract,
 * starts the gateway as its own process under `node --cpu-prof`, connects every device at once over MQTT/TLS from
 * two processes (test/support/cold-start-fleet.ts), stops the gateway (the profile is written at exit) and prints
 * its self time per function and per source area, and its CPU ms per device (from /proc).
 *
 *   node --import tsx scripts/profile-cold-start.ts [devices=2000] [profile dir=/tmp/cold-start-prof]
 *   COLD_START_HASH=scrypt … profiles the hash of before issue 17.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { hashCredential, newDeviceCredential, type CredentialPolicy } from '../gateway/auth/device-credentials';
import { openRegistry } from '../gateway/registry/open-registry';
import { baseEnv } from '../test/ops/gateway-child';
import { startColdStartFleet } from '../test/support/cold-start-fleet';
import { tempDir } from '../test/gateway/helpers/test-gateway';

const DEVICES = Number(process.argv[2] ?? 2000);
const PROF_DIR = process.argv[3] ?? '/tmp/cold-start-prof';
const policy: CredentialPolicy = process.env['COLD_START_HASH'] === 'scrypt' ? { kind: 'scrypt', scryptN: 4096 } : { kind: 'pbkdf2' };

interface Node { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; hitCount?: number; children?: number[] }

const cpuMs = (pid: number): number => {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return ((Number(f[11]) + Number(f[12])) * 1000) / 100; // utime + stime, in clock ticks of 10 ms
};

async function main(): Promise<void> {
  const dir = tempDir('pingw-prof-');
  rmSync(PROF_DIR, { recursive: true, force: true });
  mkdirSync(PROF_DIR, { recursive: true });
  const registry = await openRegistry({ file: join(dir, 'registry.sqlite'), url: null, readUrl: null, poolSize: 1 }, { now: () => Date.now() });
  const devices = [];
  const rows = [];
  for (let i = 0; i < DEVICES; i++) {
    const d = { id: `prof-${String(i).padStart(5, '0')}`, password: newDeviceCredential() };
    devices.push(d);
    rows.push({ id: d.id, fleet: 'fleet-prof', deviceClass: 'class-a', labels: [], credentialHash: await hashCredential(d.password, policy), createdAt: Date.now() });
  }
  await registry.devices.insertMany(rows);
  await registry.close();
  const extra = policy.kind === 'scrypt' ? { PINGW_CREDENTIAL_HASH: 'scrypt', PINGW_CREDENTIAL_SCRYPT_N: '4096' } : {};
  const child = spawn(process.execPath, ['--cpu-prof', `--cpu-prof-dir=${PROF_DIR}`, '--import', 'tsx', 'gateway/main.ts'], { env: baseEnv(dir, extra), stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  while (!/MQTT\/TLS:\s+port (\d+)/.test(out)) await new Promise((r) => setTimeout(r, 50));
  const port = Number(/MQTT\/TLS:\s+port (\d+)/.exec(out)![1]);
  const before = cpuMs(child.pid!);
  const fleet = startColdStartFleet({ port, caFile: join(dir, 'tls', 'broker-cert.pem'), devices, workers: 2, dir });
  const r = await fleet.run(300_000);
  const gatewayMs = cpuMs(child.pid!) - before;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
  console.log(JSON.stringify({ ...r, attemptsPerDevice: r.attempts / DEVICES, gatewayCpuMs: gatewayMs, gatewayCpuMsPerDevice: gatewayMs / DEVICES, hash: policy.kind }));

  const file = readdirSync(PROF_DIR).find((f) => f.endsWith('.cpuprofile'));
  if (file === undefined) throw new Error('no profile written');
  const prof = JSON.parse(readFileSync(join(PROF_DIR, file), 'utf8')) as { nodes: Node[]; samples: number[]; timeDeltas: number[] };
  const self = new Map<number, number>();
  prof.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (prof.timeDeltas[i] ?? 0) / 1000));
  const byFn = new Map<string, number>();
  const byArea = new Map<string, number>();
  for (const n of prof.nodes) {
    const ms = self.get(n.id) ?? 0;
    if (ms === 0) continue;
    const url = n.callFrame.url.replace(/^file:\/\//, '').replace(process.cwd() + '/', '').replace(/^.*\/node_modules\//, 'node_modules/');
    const fn = `${n.callFrame.functionName || '(anonymous)'} ${url}:${n.callFrame.lineNumber + 1}`;
    byFn.set(fn, (byFn.get(fn) ?? 0) + ms);
    const area = url === '' ? n.callFrame.functionName : url.startsWith('node_modules/') ? url.split('/').slice(0, url.startsWith('node_modules/@') ? 3 : 2).join('/') : url.startsWith('node:') ? url : url.split('/').slice(0, 2).join('/');
    byArea.set(area, (byArea.get(area) ?? 0) + ms);
  }
  const top = (m: Map<string, number>, n: number) => [...m].sort((a, b) => b[1] - a[1]).slice(0, n).map(([k, v]) => `${v.toFixed(0).padStart(7)} ms  ${k}`).join('\n');
  console.log('--- self time by area (whole run, start-up included)\n' + top(byArea, 30));
  console.log('--- self time by function\n' + top(byFn, 40));
  rmSync(dir, { recursive: true, force: true });
}

await main();
