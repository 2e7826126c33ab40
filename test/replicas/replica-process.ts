/**
 * A gateway replica as operators run it (`node --import tsx gateway/main.ts`): PostgreSQL registry, devices on
 * Mosquitto, its own backend client-id prefix (docs/scale.md "Replicas"). Its output is kept for the assertions.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join, resolve } from 'node:path';
import { waitFor } from '../support/wait-for';
import type { TestMosquitto } from '../support/mosquitto';

const ROOT = resolve(import.meta.dirname, '../..');

export interface ReplicaOptions {
  name: string;
  dataDir: string;
  databaseUrl: string;
  mosquitto: TestMosquitto;
  env?: Record<string, string>;
}

export class ReplicaProcess {
  output = '';
  apiUrl = '';
  private constructor(
    readonly name: string,
    readonly child: ChildProcess,
  ) {}

  get pid(): number {
    return this.child.pid as number;
  }

  static async start(o: ReplicaOptions): Promise<ReplicaProcess> {
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith('PINGW_')) env[k] = v;
    const m = o.mosquitto;
    Object.assign(env, {
      PINGW_DATA_DIR: o.dataDir, PINGW_HTTP_HOST: '127.0.0.1', PINGW_HTTP_PORT: '0', PINGW_MQTT_PORT: 'off',
      PINGW_DATABASE_URL: o.databaseUrl, PINGW_DATABASE_POOL_SIZE: '4',
      PINGW_BROKER_URL: m.backendUrl, PINGW_BROKER_CA_FILE: m.caFile, PINGW_BROKER_PASSWORD_FILE: m.passwordFile,
      PINGW_BROKER_PID_FILE: m.pidFile, PINGW_BROKER_RELOAD_MS: '200', PINGW_BROKER_CLIENTS: '2',
      // one pool of 4 backend client ids leased through the registry, 2 per replica: a survivor reclaims a dead
      // replica's ids and the messages waiting in their sessions (docs/scale.md "Backend connections")
      PINGW_BROKER_POOL_SIZE: '4', PINGW_BROKER_LEASE_MS: '5000',
      PINGW_ROLLOUT_TICK_MS: '250', PINGW_DRIFT_INTERVAL_MS: '0', PINGW_LIVE_CHECK_TIMEOUT_MS: '3000',
      ...o.env,
    });
    const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'gateway/main.ts')], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    const r = new ReplicaProcess(o.name, child);
    const take = (b: Buffer) => (r.output += b.toString());
    child.stdout?.on('data', take);
    child.stderr?.on('data', take);
    r.apiUrl = await waitFor(`replica ${o.name} to print its API address`, () => {
      if (child.exitCode !== null) throw new Error(`replica ${o.name} exited ${child.exitCode}: ${r.output}`);
      return /API:\s+(http:\/\/\S+)\/api\s/.exec(r.output)?.[1];
    }, 60_000, 50);
    return r;
  }

  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  signal(signal: NodeJS.Signals): void {
    this.child.kill(signal);
  }

  async kill(signal: NodeJS.Signals): Promise<void> {
    if (!this.alive) return;
    const exited = new Promise<void>((ok) => this.child.once('exit', () => ok()));
    this.child.kill(signal);
    await exited;
  }
}
