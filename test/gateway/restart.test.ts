import { afterAll, describe, expect, it } from 'vitest';
import { statSync } from 'node:fs';
import { encodeAck, fromHex } from '../../shared/index';
import { connectDevice, mqttUrl } from './helpers/device-client';
import { api, createToken, enrol, pinsetDraft, removeDir, startTestGateway, tempDir, type TestGateway } from './helpers/test-gateway';
import { waitFor } from './helpers/wait-for';

describe('restart on the same data dir', () => {
  const dir = tempDir();
  let gw: TestGateway | null = null;
  afterAll(async () => {
    await gw?.stop();
    removeDir(dir);
  });

  it('creates its secrets 0600 on first start and keeps every device, pin set, ack and token across a restart', async () => {
    gw = await startTestGateway(dir);
    expect(gw.created).toEqual({ adminToken: true, tls: true, signerKey: true, backupSigner: true });
    for (const f of [gw.files.adminToken, gw.files.signerKey, gw.files.backupSigner!, gw.files.tlsKey]) {
      expect((statSync(f).mode & 0o777).toString(8), f).toBe('600');
    }
    const viewer = await createToken(gw, 'viewer-r', 'viewer');
    const creds: Record<string, string> = {};
    for (const id of ['r-1', 'r-2', 'r-3']) creds[id] = await enrol(gw, id);
    const p1 = (await api(gw, 'POST', '/api/pinsets', { token: gw.adminToken, body: pinsetDraft('fleet-a') })).body;
    const p2 = (await api(gw, 'POST', '/api/pinsets', { token: gw.adminToken, body: pinsetDraft('fleet-a') })).body;
    expect([p1.seq, p2.seq]).toEqual([1, 2]);
    await api(gw, 'POST', `/api/pinsets/${p2.id}/deliver`, { token: gw.adminToken, body: {} });

    // many acks in flight when stop() is called: none may be lost
    const devices = await Promise.all(['r-1', 'r-2', 'r-3'].map((id) => connectDevice(mqttUrl(gw!), id, creds[id]!, { hello: false })));
    await Promise.all(
      devices.map((d) =>
        Promise.all([
          d.publish('ack', encodeAck({ seq: 2, sha256: fromHex(p2.sha256), status: 'applied' })),
          d.publish('ack', encodeAck({ seq: 2, sha256: fromHex(p2.sha256), status: 'verified' })),
        ]),
      ),
    );
    const before = (await api(gw, 'GET', `/api/pinsets/${p2.id}`, { token: viewer })).body.acks;
    const auditBefore = (await api(gw, 'GET', '/api/audit?limit=1000', { token: viewer })).body.items.length;
    await Promise.all(devices.map((d) => d.end()));
    await gw.stop();
    const firstSigner = gw.signerPublicKey;

    gw = await startTestGateway(dir);
    expect(gw.created).toEqual({ adminToken: false, tls: false, signerKey: false, backupSigner: false });
    expect(gw.signerPublicKey).toBe(firstSigner);
    // the viewer token still works; devices, pin sets and acks are all there
    const list = await api(gw, 'GET', '/api/devices?fleet=fleet-a', { token: viewer });
    expect(list.status).toBe(200);
    expect(list.body.items.map((d: { deviceId: string; installedSeq: number; verifiedSeq: number; online: boolean }) => [d.deviceId, d.installedSeq, d.verifiedSeq, d.online])).toEqual([
      ['r-1', 2, 2, false],
      ['r-2', 2, 2, false],
      ['r-3', 2, 2, false],
    ]);
    const pinsets = (await api(gw, 'GET', '/api/pinsets?fleet=fleet-a', { token: viewer })).body;
    expect(pinsets.map((p: { seq: number; sha256: string }) => [p.seq, p.sha256])).toEqual([
      [2, p2.sha256],
      [1, p1.sha256],
    ]);
    expect(before).toEqual({ applied: 3, verified: 3 });
    expect(pinsets[0].acks).toEqual(before);
    const auditAfter = (await api(gw, 'GET', '/api/audit?limit=1000', { token: viewer })).body.items.length;
    expect(auditAfter).toBe(auditBefore);

    // a device reconnects with its old credential; the released set still reaches a device that lacks it
    const r1 = await connectDevice(mqttUrl(gw), 'r-1', creds['r-1']!, { hello: { installedSeq: 1, installedSha256: fromHex(p1.sha256) } });
    await waitFor('r-1 gets seq 2 after the restart', () => r1.received.update[0]);
    await r1.end();
    // the next JSON pin set continues the fleet's seq
    const p3 = await api(gw, 'POST', '/api/pinsets', { token: gw.adminToken, body: pinsetDraft('fleet-a') });
    expect(p3.body.seq).toBe(3);
  });
});
