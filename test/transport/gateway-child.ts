import { spawn, type ChildProcess } from 'node:child_process';
import { join, resolve } from 'node:path';
import { waitFor } from '../support/wait-for';
import type { TestMosquitto } from '../support/mosquitto';

const ROOT = resolve(import.meta.dirname, '../..');

/**
 * The gateway as operators run it (`node --import tsx gateway/main.ts`), devices on Mosquitto (PINGW_BROKER_URL),
 * a process of its own so a test can SIGKILL it. `env` adds or overrides PINGW_* settings.
 */
export class GatewayChild {
  output = '';
  apiUrl = '';
  private constructor(readonly child: ChildProcess) {}

  static async start(dataDir: string, m: TestMosquitto, extra: Record<string, string> = {}): Promise<GatewayChild> {
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith('PINGW_')) env[k] = v;
    Object.assign(env, {
      PINGW_DATA_DIR: dataDir, PINGW_HTTP_HOST: '127.0.0.1', PINGW_HTTP_PORT: '0', PINGW_MQTT_PORT: 'off',
      PINGW_BROKER_URL: m.backendUrl, PINGW_BROKER_CA_FILE: m.caFile, PINGW_BROKER_PASSWORD_FILE: m.passwordFile,
      PINGW_BROKER_PID_FILE: m.pidFile, PINGW_BROKER_RELOAD_MS: '200',
      ...extra,
    });
    const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'gateway/main.ts')], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    const gw = new GatewayChild(child);
    const take = (b: Buffer) => (gw.output += b.toString());
    child.stdout?.on('data', take);
    child.stderr?.on('data', take);
    gw.apiUrl = await waitFor('the gateway to print its API address', () => {
      if (child.exitCode !== null) throw new Error(`gateway exited ${child.exitCode}: ${gw.output}`);
      return /API:\s+(http:\/\/\S+)\/api\s/.exec(gw.output)?.[1];
    }, 60_000, 50);
    return gw;
  }

  /** Log lines (`<ISO time> LEVEL message {context}`) whose message is `message`, with their time and context. */
  logged(message: string): { at: number; context: Record<string, unknown> }[] {
    const out: { at: number; context: Record<string, unknown> }[] = [];
    for (const line of this.output.split('\n')) {
      const m = /^(\S+) [A-Z]+ (.*?)(?: (\{.*\}))?$/.exec(line);
      if (m === null || m[2] !== message) continue;
      out.push({ at: Date.parse(m[1]!), context: m[3] === undefined ? {} : (JSON.parse(m[3]) as Record<string, unknown>) });
    }
    return out;
  }

  async kill(signal: NodeJS.Signals): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise<void>((ok) => this.child.once('exit', () => ok()));
    this.child.kill(signal);
    await exited;
  }
}
