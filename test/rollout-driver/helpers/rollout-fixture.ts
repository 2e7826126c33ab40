/** A gateway on a temp data dir plus a fleet of SimDevices, and the API calls the rollout tests make. */
import { api, removeDir, startTestGateway, tempDir, type TestGateway } from '../../gateway/helpers/test-gateway';
import { mqttUrl } from '../../gateway/helpers/device-client';
import type { GatewayConfigInput } from '../../../gateway/config/schema';
import type { GatewayDeps } from '../../../gateway/start';
import { HOST, PIN_A, PIN_B, SimDevice, keysetFrom } from './sim-device';

export interface Fixture {
  gw: TestGateway;
  dir: string;
  url: string;
  admin: string;
  call(method: string, path: string, body?: unknown, token?: string): Promise<{ status: number; body: any }>;
  /** Enrols `n` devices `${prefix}-000…` of `fleet` (not connected). */
  enrolFleet(fleet: string, n: number, prefix?: string): Promise<SimDevice[]>;
  /** Creates a pin set for `fleet` whose HOST is enforced with `pins`. */
  pinset(fleet: string, pins?: string[]): Promise<{ id: number; seq: number; sha256: string }>;
  rollout(id: string): Promise<any>;
  restart(): Promise<void>;
  close(): Promise<void>;
}

export const FAST_CONFIG: Partial<GatewayConfigInput> = {
  rollouts: { tickMs: 50, ratePerSecond: 2000, rateBurst: 500 },
  ingest: { flushMs: 2, maxRows: 1000 },
};

export async function startFixture(overrides: Partial<GatewayConfigInput> = FAST_CONFIG, dir = tempDir('pingw-ro-'), deps: GatewayDeps = {}): Promise<Fixture> {
  let gw = await startTestGateway(dir, overrides, deps);
  const f: Fixture = {
    gw,
    dir,
    url: mqttUrl(gw),
    admin: gw.adminToken,
    call: (method, path, body, token) => api(f.gw, method, path, { token: token ?? f.admin, ...(body === undefined ? {} : { body }) }),
    async enrolFleet(fleet, n, prefix = fleet) {
      const keyset = keysetFrom((await f.call('GET', '/api/keysets')).body);
      const out: SimDevice[] = [];
      for (let i = 0; i < n; i++) {
        const id = `${prefix}-${String(i).padStart(3, '0')}`;
        const res = await f.call('POST', '/api/devices', { deviceId: id, fleet, deviceClass: 'class-a' });
        if (res.status !== 201) throw new Error(`enrol ${id}: ${JSON.stringify(res.body)}`);
        out.push(new SimDevice(id, res.body.credential, { fleet, keyset }));
      }
      return out;
    },
    async pinset(fleet, pins = [PIN_A, PIN_B]) {
      const res = await f.call('POST', '/api/pinsets', { target: { fleet }, hosts: [{ name: HOST, includeSubdomains: false, pins, enforce: true }] });
      if (res.status !== 201) throw new Error(`pin set: ${JSON.stringify(res.body)}`);
      return res.body;
    },
    rollout: async (id) => (await f.call('GET', `/api/rollouts/${id}`)).body,
    async restart() {
      await f.gw.stop();
      gw = await startTestGateway(dir, overrides, deps);
      f.gw = gw;
      f.url = mqttUrl(gw);
      f.admin = gw.adminToken;
    },
    async close() {
      await f.gw.stop();
      removeDir(dir);
    },
  };
  return f;
}

/** Connects devices a few at a time (each costs one scrypt check on the broker). */
export async function connectAll(url: string, devices: SimDevice[], parallel = 20): Promise<void> {
  for (let i = 0; i < devices.length; i += parallel) await Promise.all(devices.slice(i, i + parallel).map((d) => d.connect(url)));
}

export async function disconnectAll(devices: SimDevice[]): Promise<void> {
  await Promise.all(devices.map((d) => d.disconnect()));
}
