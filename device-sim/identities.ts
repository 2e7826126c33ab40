import { readFile, writeFile } from 'node:fs/promises';
import { isValidDeviceId } from '../shared/index';
import type { DeviceIdentity } from './device-types';

/**
 * Where simulated devices get their identity (SPEC §6: username = deviceId, password = credential):
 * a JSON file `[{deviceId, credential, fleet, deviceClass}]`, or enrolment through the gateway's API
 * (docs/api.md: POST /api/devices, operator token, the credential is shown once — so it is cached in a file).
 */
export function parseIdentities(json: unknown): DeviceIdentity[] {
  if (!Array.isArray(json)) throw new TypeError('identities file must hold a JSON array');
  return json.map((x: unknown, i) => {
    const o = x as Partial<DeviceIdentity>;
    const ok = typeof o === 'object' && o !== null && typeof o.deviceId === 'string' && isValidDeviceId(o.deviceId)
      && typeof o.credential === 'string' && o.credential.length > 0
      && typeof o.fleet === 'string' && o.fleet.length > 0 && typeof o.deviceClass === 'string' && o.deviceClass.length > 0;
    if (!ok) throw new TypeError(`identities[${i}] must be {deviceId, credential, fleet, deviceClass} with a valid deviceId`);
    return { deviceId: o.deviceId, credential: o.credential, fleet: o.fleet, deviceClass: o.deviceClass } as DeviceIdentity;
  });
}

export async function loadIdentities(file: string): Promise<DeviceIdentity[]> {
  return parseIdentities(JSON.parse(await readFile(file, 'utf8')) as unknown);
}

export interface EnrolOptions {
  readonly api: string;
  readonly token: string;
  readonly count: number;
  readonly fleet: string;
  readonly deviceClass: string;
  /** Device ids are `${prefix}${index}` with a zero-padded index. */
  readonly prefix: string;
  /** Identities enrolled by earlier runs are kept here and reused (credentials cannot be fetched again). */
  readonly cacheFile: string;
  readonly fetchImpl?: typeof fetch;
}

export async function enrolDevices(o: EnrolOptions): Promise<DeviceIdentity[]> {
  let cached: DeviceIdentity[] = [];
  try {
    cached = await loadIdentities(o.cacheFile);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  const byId = new Map(cached.map((d) => [d.deviceId, d]));
  const wanted = Array.from({ length: o.count }, (_, i) => `${o.prefix}${String(i).padStart(5, '0')}`);
  const missing = wanted.filter((id) => !byId.has(id));
  const doFetch = o.fetchImpl ?? fetch;
  const url = new URL('/api/devices', o.api).toString();
  let next = 0;
  const enrolOne = async (deviceId: string): Promise<void> => {
    const res = await doFetch(url, {
      method: 'POST',
      headers: { authorization: `Bearer ${o.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ deviceId, fleet: o.fleet, deviceClass: o.deviceClass, labels: ['device-sim'] }),
    });
    const body = (await res.json().catch(() => ({}))) as { credential?: string; error?: { code?: string; message?: string } };
    if (!res.ok || typeof body.credential !== 'string') {
      throw new Error(`enrolling ${deviceId}: HTTP ${res.status} ${body.error?.code ?? ''} ${body.error?.message ?? ''}`.trim());
    }
    byId.set(deviceId, { deviceId, credential: body.credential, fleet: o.fleet, deviceClass: o.deviceClass });
  };
  const lane = async (): Promise<void> => {
    while (next < missing.length) await enrolOne(missing[next++] as string);
  };
  try {
    await Promise.all(Array.from({ length: Math.min(16, missing.length) }, lane));
  } finally {
    await writeFile(o.cacheFile, JSON.stringify([...byId.values()], null, 1), { mode: 0o600 });
  }
  return wanted.map((id) => byId.get(id) as DeviceIdentity);
}
