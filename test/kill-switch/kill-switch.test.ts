/**
 * Issue 16 §1: the emergency kill switch against the real gateway (SQLite file, MQTT sockets) and real mqtt.js
 * devices that run the SPEC §4 receipt check. A running rollout is superseded, every online device gets the kill
 * set at once, an offline one on reconnect, and a later normal rollout re-enables pinning.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { main as pinctl } from '../../shared/cli/pinctl';
import { waitFor } from '../gateway/helpers/wait-for';
import { connectAll, disconnectAll, startFixture, type Fixture } from '../rollout-driver/helpers/rollout-fixture';
import { HOST, PIN_A, PIN_B, PIN_C, type SimDevice } from '../rollout-driver/helpers/sim-device';

const OTHER = 'telemetry.example.com';

describe('kill switch', () => {
  let f: Fixture | null = null;
  let devices: SimDevice[] = [];
  afterEach(async () => {
    await disconnectAll(devices);
    devices = [];
    await f?.close();
    f = null;
  });

  async function twoHostSet(fleet: string, pins = [PIN_A, PIN_B]) {
    const res = await f!.call('POST', '/api/pinsets', {
      target: { fleet },
      hosts: [
        { name: HOST, includeSubdomains: false, pins, enforce: true },
        { name: OTHER, includeSubdomains: true, pins: [PIN_C, PIN_B], enforce: true },
      ],
    });
    expect(res.status).toBe(201);
    return res.body as { id: number; seq: number };
  }

  it('stops enforcing a host on every device at once, supersedes the running rollout, and a later rollout re-enables it', async () => {
    f = await startFixture();
    devices = await f.enrolFleet('kf', 40);
    const [offline, ...online] = devices as [SimDevice, ...SimDevice[]];
    await connectAll(f.url, online);
    const base = await twoHostSet('kf');
    const ro = await f.call('POST', '/api/rollouts', { pinsetId: base.id, manualApproval: true, gates: { soakMs: 0 } });
    expect(ro.status).toBe(201);
    expect((await f.call('POST', `/api/rollouts/${ro.body.id}/start`)).status).toBe(200);
    await waitFor('rollout waits for approval after its canary', async () => ((await f!.rollout(ro.body.id)).state.kind === 'PAUSED' ? true : null));

    // refused without the typed confirmation, without a reason, for a host the set does not have
    const bad = await f.call('POST', '/api/kill-switch', { fleet: 'kf', host: HOST, reason: 'key leaked', confirm: 'api.example' });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('E_BAD_BODY');
    expect(bad.body.error.message).toContain('typed confirmation');
    expect((await f.call('POST', '/api/kill-switch', { fleet: 'kf', host: HOST, reason: '', confirm: HOST })).status).toBe(400);
    const unknown = await f.call('POST', '/api/kill-switch', { fleet: 'kf', host: 'nope.example.com', reason: 'test', confirm: 'nope.example.com' });
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.code).toBe('E_NOT_FOUND');
    const viewer = (await f.call('POST', '/api/tokens', { name: 'v', role: 'viewer' })).body.token as string;
    expect((await f.call('POST', '/api/kill-switch', { fleet: 'kf', host: HOST, reason: 'x y z', confirm: HOST }, viewer)).status).toBe(403);

    const res = await f.call('POST', '/api/kill-switch', { fleet: 'kf', host: HOST, mode: 'fail-open', reason: 'server key compromised (INC-7)', confirm: HOST });
    expect(res.status).toBe(201);
    const kill = res.body;
    expect(kill).toMatchObject({ fleet: 'kf', host: HOST, mode: 'fail-open', source: 'gateway', seq: base.seq + 1, baseSeq: base.seq, supersededRollouts: [ro.body.id] });
    expect(kill.delivery).toMatchObject({ devices: 40, published: 39, queued: 1, refused: 0 });
    // the kill set: the host is still listed (devices keep reporting it) but no longer enforced; the other is unchanged
    const set = (await f.call('GET', `/api/pinsets/${kill.pinsetId}`)).body;
    expect(set.releasedAt).not.toBeNull();
    expect(set.pinset.target).toEqual({ fleet: 'kf' });
    expect(set.pinset.hosts.find((h: { name: string }) => h.name === HOST)).toMatchObject({ enforce: false, pins: [PIN_A, PIN_B].sort() });
    expect(set.pinset.hosts.find((h: { name: string }) => h.name === OTHER)).toMatchObject({ enforce: true });
    expect((await f.rollout(ro.body.id)).state.kind).toBe('ABORTED');

    const live = await waitFor('every online device holds the kill set', async () => {
      const v = (await f!.call('GET', `/api/kill-switch/${kill.id}`)).body;
      return v.coverage.onlineHave === 39 ? v : null;
    });
    expect(live.coverage).toMatchObject({ total: 40, online: 39, have: 39, percentOnline: 100, percentFleet: 97.5 });
    expect(online.every((d) => d.installedSeq === kill.seq)).toBe(true);

    // the offline device gets it on its next hello
    await offline.connect(f.url);
    await waitFor('offline device got the kill set on reconnect', async () => (offline.installedSeq === kill.seq ? true : null));

    const audit = (await f.call('GET', '/api/audit?limit=50')).body.items as { action: string; detail: Record<string, unknown> }[];
    expect(audit.find((a) => a.action === 'killswitch.engage')?.detail).toMatchObject({ reason: 'server key compromised (INC-7)', mode: 'fail-open', supersededRollouts: [ro.body.id] });
    expect(audit.some((a) => a.action === 'rollout.abort')).toBe(true);

    // the server now serves its new key C; a later normal rollout of a set that enforces the host again
    // (C + backup B) re-enables pinning
    for (const d of devices) d.serve(PIN_C);
    const next = await twoHostSet('kf', [PIN_C, PIN_B]);
    const ro2 = await f.call('POST', '/api/rollouts', { pinsetId: next.id, plan: { waves: [{ limit: { percent: 100 } }] }, gates: { soakMs: 0 } });
    expect(ro2.status).toBe(201);
    expect((await f.call('POST', `/api/rollouts/${ro2.body.id}/start`)).status).toBe(200);
    await waitFor('re-enabling rollout completed', async () => ((await f!.rollout(ro2.body.id)).state.kind === 'COMPLETED' ? true : null), 30_000);
    const after = (await f.call('GET', `/api/kill-switch/${kill.id}`)).body;
    expect(after.reenabledBy).toEqual({ pinsetId: next.id, seq: next.seq });
    expect(devices.every((d) => d.installedSeq === next.seq)).toBe(true);
    expect((await f.call('GET', '/api/kill-switch?fleet=kf')).body.map((k: { id: number }) => k.id)).toEqual([kill.id]);
  }, 60_000);

  it('unpin removes the host; it is refused for the only host of a set', async () => {
    f = await startFixture();
    devices = await f.enrolFleet('ku', 5);
    await connectAll(f.url, devices);
    await f.pinset('ku');
    const only = await f.call('POST', '/api/kill-switch', { fleet: 'ku', host: HOST, mode: 'unpin', reason: 'CA distrust', confirm: HOST });
    expect(only.status).toBe(400);
    expect(only.body.error.message).toContain('only host');
    await twoHostSet('ku');
    const res = await f.call('POST', '/api/kill-switch', { fleet: 'ku', host: OTHER.toUpperCase(), mode: 'unpin', reason: 'CA distrust', confirm: OTHER });
    expect(res.status).toBe(201);
    const set = (await f.call('GET', `/api/pinsets/${res.body.pinsetId}`)).body;
    expect(set.pinset.hosts.map((h: { name: string }) => h.name)).toEqual([HOST]);
    await waitFor('all 5 hold the unpin set', async () => ((await f!.call('GET', `/api/kill-switch/${res.body.id}`)).body.coverage.have === 5 ? true : null));
  }, 30_000);

  it('offline variant: `pinctl kill` signs the kill set; the gateway accepts only an exact kill set', async () => {
    f = await startFixture();
    devices = await f.enrolFleet('ko', 5);
    await connectAll(f.url, devices);
    const base = await twoHostSet('ko');
    const dir = mkdtempSync(join(tmpdir(), 'pingw-kill-'));
    writeFileSync(join(dir, 'base.json'), JSON.stringify((await f.call('GET', `/api/pinsets/${base.id}`)).body));
    const io = { lines: [] as string[], errs: [] as string[] };
    const cli = { out: (l: string) => io.lines.push(l), err: (l: string) => io.errs.push(l) };
    // the gateway's own signer stands in for the offline key here: both are in the trusted keyset
    const key = f.gw.files.signerKey;
    expect(await pinctl(['kill', join(dir, 'base.json'), '--host', HOST, '--key', key, '--out', join(dir, 'kill.cose')], cli)).toBe(0);
    expect(io.lines[0]).toContain(`seq ${base.seq + 1} over seq ${base.seq}`);
    expect(await pinctl(['kill', join(dir, 'base.json'), '--host', 'x.example.com', '--key', key, '--out', join(dir, 'x.cose')], cli)).toBe(1);
    expect(await pinctl(['kill', join(dir, 'base.json'), '--host', HOST, '--mode', 'off', '--key', key, '--out', join(dir, 'x.cose')], cli)).toBe(2);

    // an ordinary set offered as a kill (here the base set's own JSON, signed as seq+1 with HOST still enforced) is refused
    const plain = JSON.parse(readFileSync(join(dir, 'base.json'), 'utf8')).pinset;
    writeFileSync(join(dir, 'plain.json'), JSON.stringify({ ...plain, seq: base.seq + 1 }));
    expect(await pinctl(['sign', join(dir, 'plain.json'), '--key', key, '--out', join(dir, 'plain.cose')], cli)).toBe(0);
    const refused = await f.call('POST', '/api/kill-switch/envelope', {
      envelope: readFileSync(join(dir, 'plain.cose')).toString('base64'), host: HOST, reason: 'test', confirm: HOST,
    });
    expect(refused.status).toBe(422);
    expect(refused.body.error.code).toBe('E_NOT_KILL_SET');
    const garbage = await f.call('POST', '/api/kill-switch/envelope', { envelope: Buffer.from('not cbor').toString('base64'), host: HOST, reason: 'test', confirm: HOST });
    expect(garbage.status).toBe(400);

    const res = await f.call('POST', '/api/kill-switch/envelope', {
      envelope: readFileSync(join(dir, 'kill.cose')).toString('base64'), host: HOST, reason: 'signed offline, gateway key suspect', confirm: HOST,
    });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ source: 'offline', mode: 'fail-open', seq: base.seq + 1 });
    await waitFor('all 5 hold the offline-signed kill set', async () => (devices.every((d) => d.installedSeq === base.seq + 1) ? true : null));
  }, 30_000);
});
