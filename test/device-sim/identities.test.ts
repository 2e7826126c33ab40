import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { parseCli } from '../../device-sim/cli-args';
import { enrolDevices, parseIdentities } from '../../device-sim/identities';
import { tempDir } from './support/harness';

describe('identities and command line', () => {
  it('enrols missing devices through POST /api/devices once and reuses the cached credentials', async () => {
    const calls: Array<{ url: string; auth: string | null; body: unknown }> = [];
    const fetchImpl = (async (url: string, init: RequestInit) => {
      const body = JSON.parse(String(init.body)) as { deviceId: string };
      calls.push({ url, auth: new Headers(init.headers).get('authorization'), body });
      return new Response(JSON.stringify({ deviceId: body.deviceId, credential: `secret-${body.deviceId}` }), { status: 201 });
    }) as unknown as typeof fetch;
    const cacheFile = `${tempDir('ids')}/identities.json`;
    const o = { api: 'http://gw.test:8080', token: 'op-token', count: 3, fleet: 'f', deviceClass: 'c', prefix: 'sim-', cacheFile, fetchImpl };
    const first = await enrolDevices(o);
    expect(first.map((d) => d.deviceId)).toEqual(['sim-00000', 'sim-00001', 'sim-00002']);
    expect(calls[0]).toMatchObject({ url: 'http://gw.test:8080/api/devices', auth: 'Bearer op-token', body: { fleet: 'f', deviceClass: 'c' } });
    const again = await enrolDevices({ ...o, count: 4 });
    expect(calls).toHaveLength(4); // only sim-00003 was new
    expect(again[0]?.credential).toBe('secret-sim-00000');
    expect(parseIdentities(JSON.parse(await readFile(cacheFile, 'utf8')))).toHaveLength(4);
  });

  it('refuses malformed identities and arguments', () => {
    expect(() => parseIdentities([{ deviceId: 'a/b', credential: 'x', fleet: 'f', deviceClass: 'c' }])).toThrow(/deviceId/);
    const base = ['--fleet', 'f', '--class', 'c', '--keyset', 'k.json', '--identities', 'i.json'];
    expect(() => parseCli([...base, '--mqtt', 'mqtt://127.0.0.1:1883'])).toThrow(/mqtts/);
    expect(() => parseCli([...base, '--mqtt', 'mqtts://127.0.0.1:8883', '--fault-crash', '1.5'])).toThrow(/fault-crash/);
    const a = parseCli([...base, '--mqtt', 'mqtts://127.0.0.1:8883', '--fault-reject', '0.1', '--fault-reject-code', 'E_SIG', '--host', 'api.example.com=127.0.0.1:9443']);
    expect(a.faults).toMatchObject({ reject: 0.1, rejectCode: 'E_SIG' });
    expect(a.hosts).toEqual([['api.example.com', '127.0.0.1', 9443]]);
    expect(a.brokerHost).toBe('127.0.0.1');
  });
});
