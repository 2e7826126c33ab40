import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  checkKeysetUpdate, encodeAck, encodeCanonical, encodeReport, envelopeSha256, fromHex, generateSignerKey, toHex,
} from '../../shared/index';
import type { AckEvent } from '../../gateway/events/event-bus';
import { connectDevice, mqttUrl } from './helpers/device-client';
import { api, enrol, pinsetDraft, removeDir, startTestGateway, tempDir, type TestGateway } from './helpers/test-gateway';
import { waitFor } from './helpers/wait-for';

describe('device protocol', () => {
  let dir: string;
  let gw: TestGateway;
  let url: string;
  const creds: Record<string, string> = {};

  beforeAll(async () => {
    dir = tempDir();
    gw = await startTestGateway(dir);
    url = mqttUrl(gw);
    for (const id of ['dev-1', 'dev-2', 'dev-3', 'dev-4', 'dev-m', 'dev-x']) creds[id] = await enrol(gw, id);
  });
  afterAll(async () => {
    await gw.stop();
    removeDir(dir);
  });

  const device = async (id: string) => (await api(gw, 'GET', `/api/devices/${id}`, { token: gw.adminToken })).body;

  it('a device that misses an update while offline gets it on reconnect; canary delivery does not leak', async () => {
    const dev1 = await connectDevice(url, 'dev-1', creds['dev-1']!);
    const created = await api(gw, 'POST', '/api/pinsets', { token: gw.adminToken, body: pinsetDraft('fleet-a') });
    expect(created.status).toBe(201);
    expect(created.body.seq).toBe(1);

    // canary: only dev-1 and (offline) dev-2
    const canary = await api(gw, 'POST', `/api/pinsets/${created.body.id}/deliver`, {
      token: gw.adminToken,
      body: { deviceIds: ['dev-1', 'dev-2'] },
    });
    expect(canary.body).toMatchObject({ released: false, published: 1, queued: 1, refused: 0 });
    const got = await waitFor('dev-1 update', () => dev1.received.update[0]);
    expect(toHex(envelopeSha256(got))).toBe(created.body.sha256);

    // dev-2 was offline: its hello brings the set
    const dev2 = await connectDevice(url, 'dev-2', creds['dev-2']!);
    const got2 = await waitFor('dev-2 update on reconnect', () => dev2.received.update[0]);
    expect(toHex(envelopeSha256(got2))).toBe(created.body.sha256);

    // dev-3 was not in the canary: its hello brings nothing
    const dev3 = await connectDevice(url, 'dev-3', creds['dev-3']!);
    await waitFor('dev-3 hello recorded', async () => (await device('dev-3')).firmware === '1.0.0');
    expect(dev3.received.update).toHaveLength(0);

    // a device that already holds the set gets nothing again
    await dev2.end();
    const dev2again = await connectDevice(url, 'dev-2', creds['dev-2']!, { hello: { installedSeq: 1, installedSha256: fromHex(created.body.sha256) } });
    await waitFor('dev-2 hello with seq 1', async () => (await device('dev-2')).installedSeq === 1);
    expect(dev2again.received.update).toHaveLength(0);

    // releasing to the whole fleet: dev-3 (online) gets it now, dev-4 (offline) on its hello
    const release = await api(gw, 'POST', `/api/pinsets/${created.body.id}/deliver`, { token: gw.adminToken, body: {} });
    expect(release.body).toMatchObject({ released: true });
    await waitFor('dev-3 update after release', () => dev3.received.update[0]);
    const dev4 = await connectDevice(url, 'dev-4', creds['dev-4']!);
    await waitFor('dev-4 update on hello', () => dev4.received.update[0]);

    for (const d of [dev1, dev2again, dev3, dev4]) await d.end();
  });

  it('duplicate acks (QoS 1 redelivery) are counted once', async () => {
    const pinsets = (await api(gw, 'GET', '/api/pinsets?fleet=fleet-a', { token: gw.adminToken })).body;
    const p = pinsets[0];
    const acks: AckEvent[] = [];
    const off = gw.events.on('ack', (e) => acks.push(e));
    const dev = await connectDevice(url, 'dev-1', creds['dev-1']!, { hello: { installedSeq: 1, installedSha256: fromHex(p.sha256) } });
    const applied = encodeAck({ seq: 1, sha256: fromHex(p.sha256), status: 'applied' });
    const verified = encodeAck({ seq: 1, sha256: fromHex(p.sha256), status: 'verified' });
    await dev.publish('ack', applied);
    await dev.publish('ack', applied);
    await dev.client.publishAsync('pins/v1/dev-1/ack', Buffer.from(applied), { qos: 1, dup: true });
    await dev.publish('ack', verified);
    await dev.publish('ack', verified);
    const counts = await waitFor('ack counts', async () => {
      const r = await api(gw, 'GET', `/api/pinsets/${p.id}`, { token: gw.adminToken });
      return r.body.acks.verified === 1 ? r.body.acks : null;
    });
    expect(counts).toEqual({ applied: 1, verified: 1 });
    expect(acks.map((a) => a.ack.status)).toEqual(['applied', 'verified']);
    const d = await device('dev-1');
    expect(d.history.filter((h: { type: string }) => h.type === 'ack')).toHaveLength(2);
    expect(d.verifiedSeq).toBe(1);
    off();
    await dev.end();
  });

  it('reports are stored once per device, host, port and time', async () => {
    const dev = await connectDevice(url, 'dev-2', creds['dev-2']!, { hello: false });
    const report = encodeReport({ host: 'api.example.com', port: 443, result: 'ok', servedPins: [new Uint8Array(32).fill(1)], installedSeq: 1, time: 1_767_225_600 });
    await dev.publish('report', report);
    await dev.publish('report', report);
    const d = await waitFor('report stored', async () => {
      const r = await device('dev-2');
      return r.history.some((h: { type: string }) => h.type === 'report') ? r : null;
    });
    expect(d.history.filter((h: { type: string }) => h.type === 'report')).toEqual([
      expect.objectContaining({ host: 'api.example.com', port: 443, result: 'ok', servedPins: ['sha256/' + Buffer.alloc(32, 1).toString('base64')] }),
    ]);
    await dev.end();
  });

  it('malformed hello/ack/report are counted per code, logged once per window, and the device keeps working', async () => {
    const dev = await connectDevice(url, 'dev-m', creds['dev-m']!, { hello: false });
    const garbage = Buffer.from([0xff, 0x00, 0x13]);
    const wrongShape = encodeCanonical(new Map([[99, 1]]));
    const nonCanonical = Buffer.from([0xa1, 0x18, 0x01, 0x01]); // {1: 1} with a non-shortest key
    await dev.publish('hello', garbage);
    await dev.publish('hello', garbage);
    await dev.publish('ack', wrongShape);
    await dev.publish('report', nonCanonical);
    await dev.publish('report', Buffer.alloc(0));
    await dev.hello(); // still connected, still served
    const d = await waitFor('malformed counts', async () => {
      const r = await device('dev-m');
      // every count committed: 2 hellos, 1 ack, 2 reports (counts are batched, so wait for the totals, not the rows)
      const total = (r.malformed as { count: number }[]).reduce((n, m) => n + m.count, 0);
      return r.firmware === '1.0.0' && total >= 5 ? r : null;
    });
    const byKey = Object.fromEntries(d.malformed.map((m: { kind: string; code: string; count: number }) => [`${m.kind}:${m.code}`, m.count]));
    expect(byKey['hello:E_CBOR']).toBe(2);
    expect(byKey['ack:E_SCHEMA']).toBe(1);
    expect(Object.keys(byKey).filter((k) => k.startsWith('report:')).reduce((n, k) => n + byKey[k], 0)).toBe(2);
    expect(byKey['report:E_NONCANONICAL'] ?? byKey['report:E_CBOR']).toBeGreaterThan(0);
    const logged = gw.logs.filter((l) => l.message === 'malformed device message' && l.context?.['deviceId'] === 'dev-m');
    expect(logged).toHaveLength(1);
    expect(dev.client.connected).toBe(true);
    await dev.end();
  });

  it('a device reporting a seq the gateway never issued is flagged, counted and audited', async () => {
    const dev = await connectDevice(url, 'dev-x', creds['dev-x']!, { hello: { installedSeq: 42, installedSha256: new Uint8Array(32).fill(7) } });
    const d = await waitFor('dev-x flagged', async () => {
      const r = await device('dev-x');
      return r.flagged ? r : null;
    });
    expect(d.flagged.reason).toContain('never issued');
    await dev.hello({ installedSeq: 42, installedSha256: new Uint8Array(32).fill(7) });
    await waitFor('flag counted twice', async () => (await device('dev-x')).flagged.count === 2);
    const audit = await api(gw, 'GET', '/api/audit', { token: gw.adminToken });
    expect(audit.body.items.filter((e: { action: string; target: string }) => e.action === 'device.flagged' && e.target === 'dev-x')).toHaveLength(1);
    const flagged = await api(gw, 'GET', '/api/devices?state=flagged', { token: gw.adminToken });
    expect(flagged.body.items.map((x: { deviceId: string }) => x.deviceId)).toEqual(['dev-x']);
    await dev.end();
  });

  it('deliver() is callable directly (rollout engine) and refuses devices the set does not target', async () => {
    const other = await enrol(gw, 'dev-other', 'fleet-b');
    expect(other).toBeTruthy();
    const p = (await api(gw, 'GET', '/api/pinsets?fleet=fleet-a', { token: gw.adminToken })).body[0];
    expect(await gw.deliver('dev-other', p.id)).toMatchObject({ ok: false, reason: 'not-targeted' });
    expect(await gw.deliver('nobody', p.id)).toMatchObject({ ok: false, reason: 'unknown-device' });
    expect(await gw.deliver('dev-1', p.id)).toMatchObject({ ok: true, status: 'already-installed' });
  });

  it('after a keyset rotation a device on the old keyset gets the signed keyset document, then newer pin sets', async () => {
    const v1 = (await api(gw, 'GET', '/api/keysets', { token: gw.adminToken })).body[0];
    const next = [gw.signerPublicKey, toHex(generateSignerKey().publicKey)];
    const rotated = await api(gw, 'POST', '/api/keysets/rotate', { token: gw.adminToken, body: { publicKeys: next, removeSigners: true, reason: 'test' } });
    expect(rotated.body.version).toBe(2);
    const p = await api(gw, 'POST', '/api/pinsets', { token: gw.adminToken, body: pinsetDraft('fleet-a') });
    await api(gw, 'POST', `/api/pinsets/${p.body.id}/deliver`, { token: gw.adminToken, body: {} });

    const dev = await connectDevice(url, 'dev-4', creds['dev-4']!, { hello: { keysetVersion: 1, installedSeq: 1 } });
    const keyset = await waitFor('keyset document', () => dev.received.keyset[0]);
    const check = checkKeysetUpdate(keyset, { version: 1, publicKeys: v1.publicKeys.map(fromHex) }, Math.floor(Date.now() / 1000));
    expect(check.ok && check.keyset.version).toBe(2);
    const update = await waitFor('pin set of keyset v2', () => dev.received.update[0]);
    expect(toHex(envelopeSha256(update))).toBe(p.body.sha256);
    await dev.end();
  });
});
