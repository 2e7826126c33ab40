import { afterAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import mqtt from 'mqtt';
import { waitFor } from '../support/wait-for';
import { postgresAvailable } from '../support/postgres';
import { pidAlive as alive } from '../support/child-process';
import { readDrillTarget } from '../../device-sim/drill/target-file';

const ROOT = resolve(import.meta.dirname, '../..');
const SCRIPT = join(ROOT, 'scripts/scale-local.ts');

interface Run {
  child: ChildProcess;
  out: () => string;
  exited: Promise<number | null>;
}

function run(args: string[]): Run {
  const child = spawn(process.execPath, ['--import', 'tsx', SCRIPT, ...args], { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  child.stdout?.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr?.on('data', (b: Buffer) => (out += b.toString()));
  const exited = new Promise<number | null>((ok) => child.once('exit', (code) => ok(code)));
  return { child, out: () => out, exited };
}


const dirs: string[] = [];
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), 'pingw-scale-local-'));
  dirs.push(d);
  return d;
};
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

describe('scripts/scale-local.ts', () => {
  it('refuses a replica count out of range, naming the flag', async () => {
    const r = run(['--replicas', '0', '--dir', tmp()]);
    expect(await r.exited).toBe(1);
    expect(r.out()).toContain('--replicas: expected 1…16');
  });

  it('"stop" with nothing running says so and exits 1', async () => {
    const r = run(['stop', '--dir', tmp()]);
    expect(await r.exited).toBe(1);
    expect(r.out()).toContain('no running set-up');
  });

  it('refuses a directory that is not one of its own (never empties it)', async () => {
    const dir = tmp();
    const keep = join(dir, 'precious.txt');
    (await import('node:fs')).writeFileSync(keep, 'x');
    const r = run(['--dir', dir]);
    expect(await r.exited).toBe(1);
    expect(r.out()).toContain('not a scale-local directory');
    expect(existsSync(keep)).toBe(true);
  });

  it.skipIf(!postgresAvailable())('starts Mosquitto, PostgreSQL primary + streaming replica and two replicas on one registry; kill N and stop end them by pid', async () => {
    const dir = join(tmp(), 'scale');
    const r = run(['--dir', dir, '--replicas', '2', '--http-port', '0', '--device-port', '0', '--backend-port', '0']);
    try {
      await waitFor('the set-up to be up', () => r.out().includes('scale set-up running') || r.child.exitCode !== null, 150_000, 200);
      expect(r.child.exitCode, r.out()).toBeNull();
      const { pids } = JSON.parse(readFileSync(join(dir, 'scale.json'), 'utf8')) as { pids: Record<string, number> };
      expect(Object.keys(pids).sort()).toEqual(['gateway-0', 'gateway-1', 'mosquitto', 'postgres-primary', 'postgres-replica']);
      for (const [name, pid] of Object.entries(pids)) expect(alive(pid), name).toBe(true);

      const apis = [...r.out().matchAll(/gateway replica (\d): (http:\/\/\S+)\s+\(pid/g)].map((m) => m[2] as string);
      expect(apis).toHaveLength(2);
      const devicePort = Number(/devices mqtts:\/\/127\.0\.0\.1:(\d+) \(CA (\S+)\)/.exec(r.out())?.[1]);
      const caFile = /devices mqtts:\/\/127\.0\.0\.1:\d+ \(CA (\S+)\)/.exec(r.out())?.[1] as string;
      const token = readFileSync(join(dir, 'gateway', 'admin.token'), 'utf8').trim();
      // the drill target file (npm run drill -- --target FILE): every replica's API, the broker's device listener
      const target = readDrillTarget(join(dir, 'drill-target.json'));
      expect(target.apiUrls).toEqual(apis);
      expect(target.broker).toMatchObject({ devicePort, caFile, pid: pids['mosquitto'] });
      expect(target.replicas.map((x) => x.pid)).toEqual([pids['gateway-0'], pids['gateway-1']]);
      expect(readFileSync(target.adminTokenFile, 'utf8').trim()).toBe(token);
      const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };

      // one registry: a device enrolled through replica 0 is read back through replica 1 (the shared admin token works on both)
      const enrol = await fetch(`${apis[0]}/api/devices`, { method: 'POST', headers, body: JSON.stringify({ deviceId: 'scale-0001', fleet: 'scale', deviceClass: 'c' }) });
      expect(enrol.status).toBe(201);
      const { credential } = (await enrol.json()) as { credential: string };
      const read = await fetch(`${apis[1]}/api/devices/scale-0001`, { headers });
      expect(read.status).toBe(200);

      // the replicas wrote Mosquitto's password file: the broker accepts the new device (after its reload)
      await waitFor('Mosquitto to accept the enrolled device', async () => {
        try {
          const c = await mqtt.connectAsync(`mqtts://127.0.0.1:${devicePort}`, {
            clientId: 'scale-0001', username: 'scale-0001', password: credential, ca: readFileSync(caFile), servername: 'localhost',
            reconnectPeriod: 0, connectTimeout: 5_000, protocolVersion: 4,
          });
          await c.endAsync();
          return true;
        } catch {
          return false;
        }
      }, 30_000, 250);

      r.child.stdin?.write('kill 1\n');
      await waitFor('replica 1 to be gone', () => !alive(pids['gateway-1'] as number), 15_000, 50);
      expect(alive(pids['gateway-0'] as number)).toBe(true);
      await waitFor('the target file to show replica 1 down', () => readDrillTarget(join(dir, 'drill-target.json')).replicas[1]?.pid === null, 15_000, 50);

      r.child.stdin?.write('stop\n');
      expect(await r.exited).toBe(0);
      for (const [name, pid] of Object.entries(pids)) expect(alive(pid), `${name} (pid ${pid}) still running`).toBe(false);
      expect(existsSync(join(dir, 'scale.json'))).toBe(false);
      expect(existsSync(join(dir, 'drill-target.json'))).toBe(false);
    } finally {
      if (r.child.exitCode === null) {
        r.child.kill('SIGTERM');
        await r.exited;
      }
    }
  }, 240_000);
});
