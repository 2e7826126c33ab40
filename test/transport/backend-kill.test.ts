import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { encodeAck, encodeHello, topicFor } from '../../shared/index';
import { connectRaw } from '../gateway/helpers/device-client';
import { removeDir, tempDir } from '../gateway/helpers/test-gateway';
import { waitFor } from '../support/wait-for';
import { startMosquitto, type TestMosquitto } from '../support/mosquitto';
import { GatewayChild } from './gateway-child';

const ENV = {
  PINGW_BROKER_CLIENTS: '2',
  // the killed gateway's client ids are taken over once their lease ran out (docs/scale.md "Backend connections")
  PINGW_BROKER_LEASE_MS: '3000',
  // a second between commits: an ack the broker PUBACKed to the device is certainly not committed yet at the kill
  PINGW_INGEST_FLUSH_MS: '1000',
};

describe('a gateway killed mid-ingest loses no ack the broker acknowledged (Mosquitto, shared-subscription sessions)', () => {
  let m: TestMosquitto;
  let dir: string;
  let gw: GatewayChild | undefined;

  beforeAll(async () => {
    m = await startMosquitto();
    dir = tempDir('pingw-kill-');
  });
  afterAll(async () => {
    await gw?.kill('SIGTERM');
    await m?.stop();
    removeDir(dir);
  });

  it('SIGKILL after the devices got their PUBACKs: the restarted gateway reclaims its client ids and commits every ack once', async () => {
    gw = await GatewayChild.start(dir, m, ENV);
    const token = readFileSync(join(dir, 'admin.token'), 'utf8').trim();
    const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    const connectEnrolled = async (deviceId: string) => {
      const res = await fetch(`${gw!.apiUrl}/api/devices`, { method: 'POST', headers, body: JSON.stringify({ deviceId, fleet: 'fleet-a', deviceClass: 'class-a' }) });
      expect(res.status).toBe(201);
      const credential = ((await res.json()) as { credential: string }).credential;
      const opts = { ca: m.caPem, servername: 'localhost', clientId: deviceId, username: deviceId, password: credential };
      return waitFor(`${deviceId} accepted by Mosquitto`, () => connectRaw(m.deviceUrl, opts).catch(() => null), 10_000, 50);
    };
    const online = async (deviceId: string) =>
      ((await (await fetch(`${gw!.apiUrl}/api/devices/${deviceId}`, { headers })).json()) as { online: boolean }).online;
    // a device that stays connected to the broker while the gateway dies and comes back
    const stay = await connectEnrolled('dev-stay');
    const hello = encodeHello({ firmware: '1.0.0', deviceClass: 'class-a', fleet: 'fleet-a', installedSeq: 0, keysetVersion: 1, installedSha256: new Uint8Array(32) });
    await stay.publishAsync(topicFor('dev-stay', 'hello'), Buffer.from(hello), { qos: 1 });
    await waitFor('dev-stay online', () => online('dev-stay'), 10_000, 50);
    const device = await connectEnrolled('dev-k');

    const N = 20;
    for (let seq = 1; seq <= N; seq++) {
      const ack = encodeAck({ seq, sha256: new Uint8Array(32).fill(seq), status: 'applied' });
      await device.publishAsync(topicFor('dev-k', 'ack'), Buffer.from(ack), { qos: 1 }); // Mosquitto's PUBACK
    }
    await gw.kill('SIGKILL');
    await device.endAsync();

    const count = () => {
      const db = new Database(join(dir, 'registry.sqlite'), { readonly: true });
      try {
        return db.prepare<[], { n: number }>(`select count(*) as n from acks where device_id = 'dev-k'`).get()!.n;
      } finally {
        db.close();
      }
    };
    // nothing was committed before the kill: the case below is the redelivery, not a race won by the first gateway
    expect(count()).toBe(0);

    gw = await GatewayChild.start(dir, m, ENV);
    await waitFor(`${N} acks committed after the restart`, () => count() === N, 20_000, 50);
    // exactly once: the unique index absorbs a redelivered duplicate, and no ack is missing
    const db = new Database(join(dir, 'registry.sqlite'), { readonly: true });
    const seqs = db.prepare<[], { seq: number }>(`select seq from acks where device_id = 'dev-k' order by seq`).all().map((r) => r.seq);
    db.close();
    expect(seqs).toEqual(Array.from({ length: N }, (_, i) => i + 1));
    expect(m.log()).toMatch(/pingw@backend-0/);
    // its connection to Mosquitto survived the gateway: the restarted gateway still knows it is online
    expect(await online('dev-stay')).toBe(true);
    await stay.endAsync();
  });
});
