import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fetchServerPins, formatPin } from '../../shared/index';
import { waitUntil } from '../wait-until';

/**
 * The gateway as an operator runs it: a child process (`node --import tsx gateway/main.ts`, i.e. `npm start`)
 * configured through PINGW_* variables. The drill knows it only through its output (bound ports), its data dir
 * (admin token) and signals (SIGHUP = reload the TLS key, SIGTERM = drain and stop); device-sim never imports
 * gateway/.
 */
export interface GatewayProcessOptions {
  /** The project root (where gateway/main.ts is). */
  readonly root: string;
  readonly dataDir: string;
  readonly certFile: string;
  readonly keyFile: string;
  /** Extra PINGW_* settings (e.g. PINGW_ROLLOUT_TICK_MS). */
  readonly env?: Readonly<Record<string, string>>;
  /** Everything the gateway prints goes here. */
  readonly logFile: string;
}

export class GatewayProcess {
  private output = '';
  private constructor(
    private readonly child: ChildProcess,
    private readonly log: WriteStream,
    readonly pid: number,
  ) {}

  apiUrl = '';
  /** The embedded broker's MQTT/TLS port; 0 when devices use an external broker (PINGW_BROKER_URL). */
  mqttsPort = 0;
  adminToken = '';

  static async start(o: GatewayProcessOptions): Promise<GatewayProcess> {
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith('PINGW_')) env[k] = v;
    Object.assign(env, {
      PINGW_DATA_DIR: o.dataDir,
      PINGW_HTTP_HOST: '127.0.0.1',
      PINGW_HTTP_PORT: '0',
      PINGW_MQTT_PORT: 'off',
      PINGW_MQTTS_HOST: '127.0.0.1',
      PINGW_MQTTS_PORT: '0',
      PINGW_TLS_CERT_FILE: o.certFile,
      PINGW_TLS_KEY_FILE: o.keyFile,
      ...o.env,
    });
    // Profiling hook (benchmarks only): GATEWAY_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" adds node flags
    // to the gateway child alone; unset, the gateway starts exactly as before.
    const extraArgs = (process.env['GATEWAY_NODE_ARGS'] ?? '').split(/\s+/).filter((a) => a !== '');
    const child = spawn(process.execPath, [...extraArgs, '--import', 'tsx', join(o.root, 'gateway/main.ts')], {
      cwd: o.root, env, stdio: ['ignore', 'pipe', 'pipe'],
    });
    if (child.pid === undefined) throw new Error('could not start the gateway process');
    const gw = new GatewayProcess(child, createWriteStream(o.logFile), child.pid);
    const take = (b: Buffer) => {
      gw.log.write(b);
      gw.output = (gw.output + b.toString()).slice(-200_000);
    };
    child.stdout?.on('data', take);
    child.stderr?.on('data', take);
    const ports = await waitUntil('the gateway to print its ports', () => {
      if (child.exitCode !== null) throw new Error(`the gateway exited with ${child.exitCode}:\n${gw.tail()}`);
      const api = /API:\s+(http:\/\/\S+)\/api\s/.exec(gw.output);
      // "port N" on the embedded broker; with PINGW_BROKER_URL devices use the external broker (no port of ours: 0)
      const mqtts = /MQTT\/TLS:\s+(?:port (\d+)|devices use the external broker)/.exec(gw.output);
      return api !== null && mqtts !== null ? { api: api[1] as string, mqtts: Number(mqtts[1] ?? 0) } : undefined;
    }, 60_000);
    gw.apiUrl = ports.api;
    gw.mqttsPort = ports.mqtts;
    gw.adminToken = (await readFile(join(o.dataDir, 'admin.token'), 'utf8')).trim();
    return gw;
  }

  /** SIGKILL, as a crash would (no drain); resolves when the process is gone. */
  async kill(): Promise<void> {
    if (this.running) {
      const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
      process.kill(this.pid, 'SIGKILL');
      await exited;
    }
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** The last lines the gateway printed (for error messages). */
  tail(lines = 30): string {
    return this.output.split('\n').slice(-lines).join('\n');
  }

  /** The pin of the key the MQTT/TLS listener serves to a new connection now. */
  async servedPin(servername: string): Promise<string> {
    const served = await fetchServerPins('127.0.0.1', this.mqttsPort, { servername, timeoutMs: 5_000 });
    return formatPin(served.leaf);
  }

  /** SIGHUP, then waits until a new TLS connection is served `pin` (the gateway also prints the reload). */
  async reloadTls(pin: string, servername: string): Promise<void> {
    process.kill(this.pid, 'SIGHUP');
    await waitUntil(`the gateway to serve ${pin}`, async () => {
      if (!this.running) throw new Error(`the gateway exited:\n${this.tail()}`);
      return (await this.servedPin(servername)) === pin;
    }, 15_000);
  }

  /** SIGTERM (drain and close), SIGKILL after `graceMs`. Safe to call twice. */
  async stop(graceMs = 15_000): Promise<void> {
    if (this.running) {
      const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
      process.kill(this.pid, 'SIGTERM');
      const timer = setTimeout(() => {
        if (this.running) process.kill(this.pid, 'SIGKILL');
      }, graceMs);
      await exited;
      clearTimeout(timer);
    }
    await new Promise<void>((resolve) => this.log.end(() => resolve()));
  }
}
