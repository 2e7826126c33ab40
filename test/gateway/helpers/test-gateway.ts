import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { GatewayConfigInput } from '../../../gateway/config/schema';
import { memoryLogger } from '../../../gateway/logger';
import type { FetchServerPins } from '../../../gateway/pinsets/live-check';
import { startGateway, type GatewayDeps, type RunningGateway } from '../../../gateway/start';

export function tempDir(prefix = 'pingw-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/** Live check probe for tests: every host is unreachable unless mapped. */
export const unreachableHosts: FetchServerPins = async (host, port) => {
  throw new Error(`${host}:${port} is not reachable from the test`);
};

/**
 * Where test gateways keep their registry: null = the SQLite file in their data dir (the default); a function =
 * a database per data dir (test/support/use-postgres.ts runs whole suites a second time on PostgreSQL). A restart
 * on the same data dir gets the same database.
 */
let databaseFor: ((dataDir: string) => Promise<{ url: string; readUrl?: string | null }>) | null = null;

export function useDatabaseFor(fn: typeof databaseFor): void {
  databaseFor = fn;
}

export interface TestGateway extends RunningGateway {
  adminToken: string;
  logs: ReturnType<typeof memoryLogger>['lines'];
}

/** A gateway on ephemeral ports in `dataDir`, with an in-memory logger. */
export async function startTestGateway(
  dataDir: string,
  overrides: Partial<GatewayConfigInput> = {},
  deps: GatewayDeps = {},
): Promise<TestGateway> {
  const logger = memoryLogger();
  const database = databaseFor === null || overrides.database !== undefined ? {} : { database: await databaseFor(dataDir) };
  const gw = await startGateway(
    {
      dataDir,
      http: { host: '127.0.0.1', port: 0 },
      mqtt: { host: '127.0.0.1', port: 0 },
      mqtts: { host: '127.0.0.1', port: 0 },
      ...database,
      ...overrides,
    },
    { logger, fetchServerPins: unreachableHosts, ...deps },
  );
  const adminToken = readFileSync(gw.files.adminToken, 'utf8').trim();
  return Object.assign(gw, { adminToken, logs: logger.lines });
}

/** Calls the API in-process with `app.request()` (no port needed). */
export async function api(
  gw: RunningGateway,
  method: string,
  path: string,
  opts: { token?: string; body?: unknown; rawBody?: string } = {},
): Promise<{ status: number; body: any }> {
  const headers: Record<string, string> = {};
  if (opts.token !== undefined) headers['authorization'] = `Bearer ${opts.token}`;
  let body: string | undefined;
  if (opts.rawBody !== undefined) body = opts.rawBody;
  else if (opts.body !== undefined) body = JSON.stringify(opts.body);
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await gw.api.request(path, { method, headers, ...(body !== undefined ? { body } : {}) });
  const text = await res.text();
  return { status: res.status, body: text.length > 0 ? JSON.parse(text) : null };
}

export async function createToken(gw: TestGateway, name: string, role: 'viewer' | 'publisher' | 'operator' | 'admin'): Promise<string> {
  const res = await api(gw, 'POST', '/api/tokens', { token: gw.adminToken, body: { name, role } });
  if (res.status !== 201) throw new Error(`token creation failed: ${JSON.stringify(res.body)}`);
  return res.body.token as string;
}

export async function enrol(gw: TestGateway, deviceId: string, fleet = 'fleet-a', deviceClass = 'class-a'): Promise<string> {
  const res = await api(gw, 'POST', '/api/devices', { token: gw.adminToken, body: { deviceId, fleet, deviceClass } });
  if (res.status !== 201) throw new Error(`enrolment failed: ${JSON.stringify(res.body)}`);
  return res.body.credential as string;
}

const PIN_A = 'sha256/' + Buffer.alloc(32, 1).toString('base64');
const PIN_B = 'sha256/' + Buffer.alloc(32, 2).toString('base64');

/** A small valid pin-set draft for `fleet` (its hosts are not enforced, so no live check applies). */
export function pinsetDraft(fleet = 'fleet-a', extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    target: { fleet },
    hosts: [{ name: 'api.example.com', includeSubdomains: false, pins: [PIN_A, PIN_B], enforce: false }],
    ...extra,
  };
}
