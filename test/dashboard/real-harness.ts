/**
 * The real gateway for the dashboard tests: startGateway with a temp data dir and ports 0, the dashboard mounted on
 * the dashboard mounted by start.ts itself, an admin token and a JSON caller.
 * Also the one chromium launch every browser test uses (Debian's /usr/bin/chromium; never a downloaded browser).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { GatewayApi } from '../../dashboard/api/api-client';
import { createDashboard, type DashboardOptions } from '../../dashboard/app';
import { memoryLogger } from '../../gateway/logger';
import { startGateway, type GatewayDeps, type RunningGateway } from '../../gateway/start';
import { connectMqttDevice, type MqttDevice } from './mqtt-device';
import { waitFor } from '../support/wait-for';

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
}

/** Opens `baseUrl + path`, is sent to the login form, signs in with `token` and waits to be back on a page. */
export async function logIn(page: Page, baseUrl: string, path: string, token: string): Promise<void> {
  await page.goto(baseUrl + path);
  await page.waitForURL(/\/login/);
  await page.fill('#token', token);
  await page.click('button[type=submit]');
  await page.waitForURL((u) => !u.pathname.startsWith('/login'));
}

export async function until(cond: () => boolean | Promise<boolean>): Promise<void> {
  await waitFor('a dashboard condition', cond, 55_000, 20);
}

export interface RealGateway {
  readonly gw: RunningGateway;
  readonly url: string;
  readonly admin: string;
  call(method: string, path: string, token: string, body?: unknown): Promise<{ status: number; body: any }>;
  /** Creates an API token with that role. */
  token(name: string, role: 'viewer' | 'operator'): Promise<string>;
  /** Enrols a device (operator token); returns its credential. */
  enrol(operator: string, deviceId: string, fleet: string): Promise<string>;
  /** Connects an enrolled device over MQTT with its own credential (hello, then acks updates). */
  connect(deviceId: string, credential: string, fleet: string, firmware: string): Promise<MqttDevice>;
  /**
   * A second dashboard on this gateway's real API (in-process fetch, as start.ts wires it) with its own options:
   * an injected clock, secure cookies, a session limit. The production one is mounted on `gw.api`.
   */
  dashboard(options?: Partial<Omit<DashboardOptions, 'api'>>): ReturnType<typeof createDashboard>;
  /** enrol + connect. */
  device(operator: string, deviceId: string, fleet: string, firmware: string): Promise<MqttDevice>;
  stop(): Promise<void>;
}

export interface RealGatewayOptions {
  /** The gateway's TLS probe (live check, drift watch); default: every host unreachable. */
  readonly fetchServerPins?: NonNullable<GatewayDeps['fetchServerPins']>;
  /** RFC 6962 logs the CT watch follows (PINGW_CT_LOGS). */
  readonly ctLogs?: readonly string[];
}

export async function startRealGateway(options: RealGatewayOptions = {}): Promise<RealGateway> {
  const dir = mkdtempSync(join(tmpdir(), 'pingw-dash-'));
  const gw = await startGateway(
    {
      dataDir: dir,
      http: { host: '127.0.0.1', port: 0 },
      mqtt: { host: '127.0.0.1', port: 0 },
      mqtts: { host: '127.0.0.1', port: 0 },
      rollouts: { tickMs: 50 },
      // the watches run when a test asks (POST /api/drift-watch/run, /api/ct-watch/run), never on a schedule
      lifecycle: { driftIntervalMs: 0, ctIntervalMs: 0, ctLogs: [...(options.ctLogs ?? [])] },
    },
    {
      logger: memoryLogger(),
      // The live check of enforced hosts: nothing is reachable from the test (the set is accepted as unchecked).
      fetchServerPins:
        options.fetchServerPins ??
        (async (host, port) => {
          throw new Error(`${host}:${port} is not reachable from the test`);
        }),
    },
  );
  // start.ts mounts the dashboard at / (the API lives at /api): the browser sees the production app.
  const admin = readFileSync(gw.files.adminToken, 'utf8').trim();
  const devices: MqttDevice[] = [];
  const call: RealGateway['call'] = async (method, path, token, body) => {
    const res = await fetch(gw.http.url + path, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    return { status: res.status, body: await res.json().catch(() => null) };
  };
  const enrol: RealGateway['enrol'] = async (operator, deviceId, fleet) => {
    const res = await call('POST', '/api/devices', operator, { deviceId, fleet, deviceClass: 'th-basic' });
    if (res.status !== 201) throw new Error(`enrol ${deviceId}: ${res.status}`);
    return res.body.credential as string;
  };
  let trusted: string[] | undefined;
  const connect: RealGateway['connect'] = async (deviceId, credential, fleet, firmware) => {
    // the device trusts the gateway's first keyset (the signer and the offline backup signer, SPEC §5)
    trusted ??= ((await call('GET', '/api/keysets', admin)).body as { publicKeys: string[] }[])[0]?.publicKeys;
    const keys = trusted !== undefined ? { trustedPublicKeys: trusted } : {};
    const d = await connectMqttDevice({ port: gw.mqtt?.port ?? 0, deviceId, credential, firmware, fleet, signerPublicKey: gw.signerPublicKey ?? '', ...keys });
    devices.push(d);
    return d;
  };
  return {
    gw,
    url: gw.http.url,
    admin,
    call,
    token: async (name, role) => {
      const res = await call('POST', '/api/tokens', admin, { name, role });
      if (res.status !== 201) throw new Error(`token: ${res.status}`);
      return res.body.token as string;
    },
    enrol,
    connect,
    dashboard: (options = {}) =>
      createDashboard({ api: new GatewayApi({ fetch: async (req) => gw.api.fetch(req) }), secureCookies: false, logger: memoryLogger(), ...options }),
    device: async (operator, deviceId, fleet, firmware) => connect(deviceId, await enrol(operator, deviceId, fleet), fleet, firmware),
    stop: async () => {
      await Promise.all(devices.map((d) => d.end().catch(() => undefined)));
      await gw.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
