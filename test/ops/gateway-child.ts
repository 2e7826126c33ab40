import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** The gateway as an operator runs it (`node --import tsx gateway/main.ts`), configured by PINGW_* only. */
export interface GatewayChild {
  readonly url: string;
  readonly output: () => string;
  readonly exited: Promise<number | null>;
  stop(): Promise<void>;
}

export function baseEnv(dataDir: string, extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith('PINGW_')) env[k] = v;
  return {
    ...env,
    PINGW_DATA_DIR: dataDir,
    PINGW_HTTP_PORT: '0',
    PINGW_MQTT_PORT: '0',
    PINGW_MQTTS_HOST: '127.0.0.1',
    PINGW_MQTTS_PORT: '0',
    ...extra,
  };
}

/** Starts the process; resolves once it printed its API address, rejects with its output if it exits first. */
export function startGatewayChild(env: Record<string, string>): Promise<GatewayChild> {
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'gateway/main.ts'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    const onData = (d: Buffer) => {
      out += d.toString();
      const m = /API:\s+(http:\/\/\S+)\/api /.exec(out);
      if (m) {
        resolve({
          url: m[1] as string,
          output: () => out,
          exited,
          stop: async () => {
            if (child.exitCode === null) child.kill('SIGTERM');
            await exited;
          },
        });
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    void exited.then((code) => reject(new Error(`gateway exited with ${code}:\n${out}`)));
  });
}

/** The exit status and output of a start that is expected to fail. */
export async function failedStart(env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  try {
    const gw = await startGatewayChild(env);
    await gw.stop();
    return { code: 0, output: gw.output() };
  } catch (e) {
    const m = /^gateway exited with (\S+):\n([\s\S]*)$/.exec((e as Error).message);
    return { code: m ? Number(m[1]) : null, output: m ? (m[2] as string) : String(e) };
  }
}

export async function call(url: string, token: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(`${url}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // text/plain answers (e.g. /metrics) stay text
  }
  return { status: res.status, body: parsed };
}
