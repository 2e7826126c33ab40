/**
 * Rollout scenarios on a real gateway (real MQTT sockets, real SQLite file): restart mid-wave, late joiners,
 * offline devices served on reconnect, supersede, the telemetry gate, telemetry counts, rotation readiness and
 * the rotation gate. Devices run the SPEC §4 receipt check (helpers/sim-device.ts).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { rolloutRank } from '../../gateway/rollout-engine/index';
import { waitFor } from '../gateway/helpers/wait-for';
import { connectAll, disconnectAll, startFixture, type Fixture } from './helpers/rollout-fixture';
import { HOST, PIN_A, PIN_B, PIN_C, PIN_D, type SimDevice } from './helpers/sim-device';

function ranked(rolloutId: string, devices: SimDevice[]): SimDevice[] {
  return [...devices].sort((a, b) => rolloutRank(rolloutId, a.id) - rolloutRank(rolloutId, b.id) || (a.id < b.id ? -1 : 1));
}

let f: Fixture | null = null;
let all: SimDevice[] = [];
afterEach(async () => {
  await disconnectAll(all);
  all = [];
  await f?.close();
  f = null;
});

async function stateOf(id: string, kind: string) {
  return waitFor(`rollout ${id} ${kind}`, async () => {
    const r = await f!.rollout(id);
    return r.state.kind === kind ? r : null;
  }, 20_000);
}

const TWO_WAVES = { waves: [{ name: 'canary', limit: { count: 5 } }, { name: 'rest', limit: { percent: 100 } }] };

describe('rollouts on a running gateway', () => {
  it('restart mid-wave: stop + start on the same data dir resumes exactly where it was', async () => {
    f = await startFixture();
    all = await f.enrolFleet('fleet-r', 20);
    const p = await f.pinset('fleet-r');
    const id = (await f.call('POST', '/api/rollouts', { pinsetId: p.id, plan: TWO_WAVES, gates: { soakMs: 100 } })).body.id;
    // 3 of the 5 canary devices (by the engine's order) are offline: the canary holds at 2/5 verified
    const offline = ranked(id, all).slice(2, 5);
    await connectAll(f.url, all.filter((d) => !offline.includes(d)));
    await f.call('POST', `/api/rollouts/${id}/start`);
    await waitFor('2 canaries verified', async () => (await f!.rollout(id)).executions.byKind.VERIFIED === 2);
    const before = await f.rollout(id);
    expect(before.state).toMatchObject({ kind: 'RUNNING', wave: 0 });
    expect(before.executions.byKind).toMatchObject({ VERIFIED: 2, QUEUED: 3 });

    await disconnectAll(all);
    await f.restart();
    const after = await f.rollout(id);
    expect(after.state).toEqual(before.state);
    expect(after.executions).toEqual(before.executions);
    // the same waves; only the ETA moves with the clock (it is an estimate from the elapsed time, issue 15)
    const withoutEta = (waves: { eta: unknown }[]) => waves.map(({ eta: _eta, ...w }) => w);
    expect(withoutEta(after.waves)).toEqual(withoutEta(before.waves));

    // everyone reconnects (with what they hold): the 3 are served, the canary passes, the rest follows
    await connectAll(f.url, all);
    const done = await stateOf(id, 'COMPLETED');
    expect(done.executions.byKind.VERIFIED).toBe(20);
    expect(all.every((d) => d.updates === 1 && d.installedSeq === p.seq)).toBe(true);
  });

  it('late joiners are enrolled into the running last wave; after COMPLETED the hello serves the set', async () => {
    f = await startFixture();
    all = await f.enrolFleet('fleet-l', 8);
    const p = await f.pinset('fleet-l');
    const id = (await f.call('POST', '/api/rollouts', { pinsetId: p.id, plan: { waves: [{ limit: { count: 2 } }, { limit: { percent: 100 } }] }, gates: { soakMs: 50 } })).body.id;
    const lastWave = ranked(id, all).slice(2);
    const straggler = lastWave[0]!; // offline: keeps the last wave below 95 %
    await connectAll(f.url, all.filter((d) => d !== straggler));
    await f.call('POST', `/api/rollouts/${id}/start`);
    await waitFor('last wave running, 7 verified', async () => {
      const r = await f!.rollout(id);
      return r.state.kind === 'RUNNING' && r.state.wave === 1 && r.executions.byKind.VERIFIED === 7;
    });
    const [late] = await f.enrolFleet('fleet-l', 1, 'late');
    all.push(late!);
    await late!.connect(f.url);
    await waitFor('late joiner verified', () => late!.acks.some((a) => a.status === 'verified'));
    const r = await f.rollout(id);
    expect(r.waves[1].enrolled).toBe(7);
    expect(r.executions.total).toBe(9);
    const audit = (await f.call('GET', '/api/audit?limit=200')).body.items;
    expect(audit.some((e: { action: string; detail: { deviceIds: string[] } }) => e.action === 'rollout.enrolled' && e.detail.deviceIds.includes(late!.id))).toBe(true);

    // the offline device is served on reconnect; then the rollout completes
    await straggler.connect(f.url);
    await stateOf(id, 'COMPLETED');
    expect(straggler.installedSeq).toBe(p.seq);
    // a device enrolled after COMPLETED is in no rollout: its hello brings the released set
    const [after] = await f.enrolFleet('fleet-l', 1, 'after');
    all.push(after!);
    await after!.connect(f.url);
    await waitFor('device after completion gets the set', () => after!.installedSeq === p.seq);
    expect((await f.rollout(id)).executions.total).toBe(9);
  });

  it('a newer pin set supersedes the older rollout: its queued devices never get the older set', async () => {
    f = await startFixture();
    all = await f.enrolFleet('fleet-s', 6);
    const p1 = await f.pinset('fleet-s');
    const r1 = (await f.call('POST', '/api/rollouts', { pinsetId: p1.id, plan: { waves: [{ limit: { count: 3 } }, { limit: { percent: 100 } }] }, manualApproval: true, gates: { soakMs: 0 } })).body.id;
    const offline = ranked(r1, all)[0]!; // a canary device that is offline
    await connectAll(f.url, all.filter((d) => d !== offline));
    await f.call('POST', `/api/rollouts/${r1}/start`);
    await waitFor('2 canaries verified', async () => (await f!.rollout(r1)).executions.byKind.VERIFIED === 2);
    // devices outside the canary got nothing, and a reconnect (hello) does not bring a set a rollout owns
    const bystander = ranked(r1, all)[4]!;
    await bystander.disconnect();
    await bystander.connect(f.url);
    await waitFor('bystander hello recorded', async () => (await f!.call('GET', `/api/devices/${bystander.id}`)).body.firmware === '2.0.0');
    await f.gw.rollouts.tick(r1);
    expect(all.filter((d) => d.updates > 0)).toHaveLength(2);
    expect(bystander.updates).toBe(0);

    const p2 = await f.pinset('fleet-s', [PIN_A, PIN_B, PIN_C]);
    const r2 = (await f.call('POST', '/api/rollouts', { pinsetId: p2.id, plan: { waves: [{ limit: { percent: 100 } }] }, gates: { soakMs: 0 } })).body.id;
    expect((await f.rollout(r1)).state.kind).toBe('RUNNING'); // a newer DRAFT stops nothing
    expect((await f.call('POST', `/api/rollouts/${r2}/start`)).status).toBe(200);
    const old = await f.rollout(r1);
    expect(old.state).toMatchObject({ kind: 'ABORTED', reason: { kind: 'superseded', by: r2 } });
    expect(old.executions.byKind).toMatchObject({ VERIFIED: 2, SUPERSEDED: 1 });
    await connectAll(f.url, [offline]);
    await stateOf(r2, 'COMPLETED');
    expect(offline.updates).toBe(1);
    expect(all.every((d) => d.installedSeq === p2.seq)).toBe(true);
    // the older set cannot be rolled out again, nor the aborted rollout restarted
    expect((await f.call('POST', '/api/rollouts', { pinsetId: p1.id })).body.error.code).toBe('E_SEQ');
    const restart = await f.call('POST', `/api/rollouts/${r1}/resume`);
    expect([restart.status, restart.body.error.code]).toEqual([409, 'E_TRANSITION']);
  });

  it('mismatch reports from devices on the new set pause the rollout; the gate counts devices, telemetry deduplicates', async () => {
    f = await startFixture();
    all = await f.enrolFleet('fleet-m', 10);
    await connectAll(f.url, all);
    const p = await f.pinset('fleet-m');
    // a long soak keeps wave 0 RUNNING while the devices report
    const id = (await f.call('POST', '/api/rollouts', { pinsetId: p.id, plan: { waves: [{ limit: { count: 6 } }, { limit: { percent: 100 } }] }, gates: { soakMs: 600_000, telemetryMinReports: 5 } })).body.id;
    await f.call('POST', `/api/rollouts/${id}/start`);
    await waitFor('wave 0 verified', async () => (await f!.rollout(id)).executions.byKind.VERIFIED === 6);
    const onSet = all.filter((d) => d.installedSeq === p.seq);
    const others = all.filter((d) => d.installedSeq !== p.seq);
    // reports from devices that do not run the rollout's seq do not count for its gate
    for (const d of others) for (let i = 0; i < 3; i++) await d.report('mismatch', PIN_D);
    for (const d of onSet) for (let i = 0; i < 2; i++) await d.report('ok');
    await f.gw.rollouts.tick(id);
    expect((await f.rollout(id)).state.kind).toBe('RUNNING'); // 0 of 6 devices (the repeated "ok" is the same report)
    await onSet[0]!.report('mismatch', PIN_D); // 1 of 6 reporting devices = 16.7 % > 1 %
    const paused = await stateOf(id, 'PAUSED');
    expect(paused.pauseReason).toEqual({ kind: 'telemetry-gate', mismatches: 1, reports: 6 }); // devices, not reports (issue 17)
    await onSet[1]!.report('fail-open');

    const series = (await f.call('GET', '/api/telemetry?fleet=fleet-m&bucketSeconds=3600')).body;
    const sum = (k: 'ok' | 'mismatch' | 'failOpen') => series.reduce((n: number, pt: Record<string, number>) => n + (pt[k] ?? 0), 0);
    // a report a device already sent today (same host, served pins, seq, result) is acknowledged, not counted again
    expect([sum('ok'), sum('mismatch'), sum('failOpen')]).toEqual([6, others.length + 1, 1]);
    expect(series[0].t % 3_600_000).toBe(0);
    const reports = (await f.call('GET', `/api/reports?fleet=fleet-m&host=${HOST}&limit=5`)).body;
    expect(reports).toHaveLength(5);
    expect(reports[0]).toMatchObject({ deviceId: onSet[1]!.id, result: 'fail-open', host: HOST, servedPins: [PIN_A], installedSeq: p.seq });
    expect(reports[1]).toMatchObject({ result: 'mismatch', servedPins: [PIN_D] });
    expect((await f.call('GET', '/api/telemetry?fleet=other')).body).toEqual([]);
  });

  it('rotation readiness: not ready → ready as devices verify, offline and unknown devices listed; the rotation gate', async () => {
    f = await startFixture();
    all = await f.enrolFleet('fleet-k', 20);
    const never = all.slice(18); // enrolled, offline, never said hello yet
    await connectAll(f.url, all.slice(0, 18));
    const readiness = async (pin: string, extra = '') =>
      (await f!.call('GET', `/api/fleets/fleet-k/rotation-readiness?host=${HOST}&pin=${encodeURIComponent(pin)}${extra}`)).body;

    await waitFor('18 hellos counted', async () => (await readiness(PIN_B)).atRiskBy['never-said-hello'] === 2);
    let r = await readiness(PIN_B);
    // nothing pinned yet: the 18 that said hello hold nothing (ordinary CA validation, safe); the 2 unknown ones are at risk
    expect(r).toMatchObject({ ready: false, coverage: 0, total: 20, target: 95, atRisk: 2 });
    expect(r.devices).toEqual(never.map((d) => ({ deviceId: d.id, online: false, installedSeq: 0, why: 'never-said-hello' })));

    const p = await f.pinset('fleet-k', [PIN_A, PIN_B]);
    const id = (await f.call('POST', '/api/rollouts', { pinsetId: p.id, plan: { waves: [{ limit: { percent: 100 } }] }, gates: { soakMs: 0 } })).body.id;
    await f.call('POST', `/api/rollouts/${id}/start`);
    await waitFor('18 verified', async () => (await readiness(PIN_B)).verified === 18);
    r = await readiness(PIN_B, '&target=90');
    expect(r).toMatchObject({ ready: true, coverage: 90, verified: 18, total: 20, target: 90, atRisk: 2 });
    r = await readiness(PIN_B);
    expect(r).toMatchObject({ ready: false, coverage: 90, atRisk: 2 });
    // a key nobody pins: the 18 enforce the host without it (at risk), paged
    const c1 = await readiness(PIN_C, '&limit=15');
    expect(c1).toMatchObject({ ready: false, coverage: 0, atRisk: 20, atRiskBy: { 'pin-absent': 18, 'never-said-hello': 2 } });
    expect(c1.devices).toHaveLength(15);
    const c2 = await readiness(PIN_C, `&limit=15&cursor=${c1.nextCursor}`);
    expect([...c1.devices, ...c2.devices].map((d: { deviceId: string }) => d.deviceId)).toEqual(all.map((d) => d.id));
    expect(c2.nextCursor).toBeNull();

    // the rotation gate
    const refused = await f.call('POST', '/api/rotations', { fleet: 'fleet-k', host: HOST, pin: PIN_B });
    expect([refused.status, refused.body.error.code]).toEqual([422, 'E_GATE_NOT_MET']);
    expect(refused.body.error.readiness).toMatchObject({ ready: false, coverage: 90, atRisk: 2 });
    const noReason = await f.call('POST', '/api/rotations', { fleet: 'fleet-k', host: HOST, pin: PIN_B, force: true, reason: '  ' });
    expect([noReason.status, noReason.body.error.code]).toEqual([400, 'E_BAD_BODY']);
    const forced = await f.call('POST', '/api/rotations', { fleet: 'fleet-k', host: HOST, pin: PIN_B, force: true, reason: 'old key compromised' });
    expect(forced.status).toBe(201);
    expect(forced.body).toMatchObject({ recorded: true, forced: true, reason: 'old key compromised' });

    // the two offline devices connect: served on reconnect, verified, ready
    await connectAll(f.url, never);
    await stateOf(id, 'COMPLETED');
    // The rollout may complete at 19/20 (the 95 % gate): wait for the 20th verified ack before reading coverage.
    r = await waitFor('all 20 verified', async () => {
      const x = await readiness(PIN_B);
      return x.verified === 20 ? x : null;
    });
    expect(r).toMatchObject({ ready: true, coverage: 100, atRisk: 0, devices: [], nextCursor: null });
    const ok = await f.call('POST', '/api/rotations', { fleet: 'fleet-k', host: HOST, pin: PIN_B });
    expect(ok.body).toMatchObject({ recorded: true, forced: false });
    const audit = (await f.call('GET', '/api/audit?limit=100')).body.items.map((e: { action: string }) => e.action);
    expect(audit).toEqual(expect.arrayContaining(['rotation.refused', 'rotation.forced', 'rotation.recorded']));
    const list = (await f.call('GET', '/api/rotations?fleet=fleet-k')).body;
    expect(list.map((x: { forced: boolean }) => x.forced)).toEqual([false, true]);
    expect((await f.call('GET', '/api/fleets/fleet-k/coverage')).body).toEqual([
      { host: HOST, pin: PIN_A, verified: 20, total: 20, percent: 100 },
      { host: HOST, pin: PIN_B, verified: 20, total: 20, percent: 100 },
    ].sort((a, b) => (a.pin < b.pin ? -1 : 1)));
  });
});
