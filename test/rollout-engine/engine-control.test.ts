import { describe, expect, it } from 'vitest';
import {
  applyOperatorCommand,
  onAck,
  parseSnapshot,
  serializeSnapshot,
  summarizeExecutions,
  supersede,
  type ExecutionRecord,
} from '../../gateway/rollout-engine/index.js';
import {
  ack,
  command,
  device,
  fleet,
  hello,
  kindOf,
  MIN,
  newSim,
  stateKind,
  T0,
  tick,
  tryCommand,
  verifyDelivered,
  waveMembers,
  type Sim,
} from './harness.js';

const SOAK = 10 * MIN;

describe('error gate in the engine', () => {
  const plan = { waves: [{ limit: { count: 20 } }, { limit: { percent: 100 } }] };

  function wave0(failures: number): Sim {
    const sim = newSim(fleet(40), { plan });
    command(sim, { type: 'start' });
    tick(sim);
    const members = waveMembers(sim, 0);
    for (const id of members.slice(0, failures)) ack(sim, id, 'rejected', 'E_WOULD_BRICK');
    verifyDelivered(sim);
    tick(sim);
    return sim;
  }

  it('1 of 20 (5 %) does not pause', () => {
    expect(wave0(1).rollout.state).toMatchObject({ kind: 'RUNNING', soakStartedAt: expect.any(Number) });
  });

  it('2 of 20 (10 %) pauses; resume counts afresh (no error-gate re-trip), the wave that cannot pass pauses as wave-failed; retry-failed requeues', () => {
    const sim = wave0(2);
    expect(sim.rollout.state).toMatchObject({ kind: 'PAUSED', reason: { kind: 'error-gate', failed: 2, finished: 20 } });
    sim.now += MIN;
    tick(sim);
    expect(stateKind(sim)).toBe('PAUSED');
    command(sim, { type: 'resume' });
    expect(sim.rollout.gateWindowStart).toBe(sim.now);
    tick(sim);
    // the error gate counts afresh from the resume and stays quiet; but 18/20 = 90 % can never reach 95 %
    expect(sim.rollout.state).toMatchObject({ kind: 'PAUSED', wave: 0, reason: { kind: 'wave-failed', wave: 0, failed: 2, size: 20 } });
    command(sim, { type: 'retry-failed' });
    const retried = [...sim.execs.values()].filter((e) => e.state.kind === 'QUEUED');
    expect(retried).toHaveLength(2);
    command(sim, { type: 'resume' });
    expect(tick(sim).commands.map((c) => c.attempt)).toEqual([1, 1]);
    expect(sim.rollout.state).toMatchObject({ kind: 'RUNNING', wave: 0 });
  });

  it('a canary with 1 failure of 5 does not trip the error gate (minimum 10 finished) but pauses as wave-failed (4/5 < 95 %)', () => {
    const sim = newSim(fleet(1000));
    command(sim, { type: 'start' });
    tick(sim);
    const [first] = waveMembers(sim, 0);
    ack(sim, first as string, 'rejected', 'E_SIG');
    tick(sim);
    expect(sim.rollout.state).toMatchObject({ kind: 'PAUSED', wave: 0, reason: { kind: 'wave-failed', wave: 0, failed: 1, size: 5 } });
    verifyDelivered(sim);
    sim.now += 3 * SOAK;
    tick(sim);
    expect(stateKind(sim)).toBe('PAUSED'); // holds for the operator, however long
    // resume alone re-trips at the next tick (nothing changed) …
    command(sim, { type: 'resume' });
    tick(sim);
    expect(sim.rollout.state).toMatchObject({ kind: 'PAUSED', reason: { kind: 'wave-failed' } });
    // … advancing accepts the failed wave as it is and enrols the next one
    command(sim, { type: 'advance' });
    expect(sim.rollout.state).toMatchObject({ kind: 'RUNNING', wave: 1 });
    expect(waveMembers(sim, 1)).toHaveLength(100);
  });

  it('telemetry gate pauses on mismatch reports', () => {
    const sim = wave0(0);
    tick(sim, { reports: 100, mismatches: 1 });
    expect(stateKind(sim)).toBe('RUNNING');
    tick(sim, { reports: 100, mismatches: 2 });
    expect(sim.rollout.state).toMatchObject({ kind: 'PAUSED', reason: { kind: 'telemetry-gate' } });
  });
});

describe('operator commands', () => {
  it('manual approval: pause after soak, advance enrols the next wave; resume approves too', () => {
    const plan = { waves: [{ limit: { count: 2 } }, { limit: { count: 2 } }, { limit: { percent: 100 } }] };
    const sim = newSim(fleet(10), { plan, config: { gates: { manualApproval: true } } });
    command(sim, { type: 'start' });
    tick(sim);
    verifyDelivered(sim);
    tick(sim);
    sim.now += SOAK;
    tick(sim);
    expect(sim.rollout.state).toMatchObject({ kind: 'PAUSED', wave: 0, reason: { kind: 'approval', wave: 0 } });
    sim.now += 5 * MIN;
    expect(tick(sim).commands).toEqual([]); // waits, however long
    command(sim, { type: 'advance' });
    expect(sim.rollout.state).toMatchObject({ kind: 'RUNNING', wave: 1 });
    expect(waveMembers(sim, 1)).toHaveLength(2);
    tick(sim);
    verifyDelivered(sim);
    tick(sim);
    sim.now += SOAK;
    tick(sim);
    expect(sim.rollout.state).toMatchObject({ kind: 'PAUSED', reason: { kind: 'approval', wave: 1 } });
    command(sim, { type: 'resume' });
    expect(sim.rollout.state).toMatchObject({ kind: 'RUNNING', wave: 2 });
    expect(waveMembers(sim, 2)).toHaveLength(6);
  });

  it.each([
    ['resume a running rollout', 'running', { type: 'resume' }],
    ['start twice', 'running', { type: 'start' }],
    ['pause a draft', 'draft', { type: 'pause' }],
    ['retry-failed on a draft', 'draft', { type: 'retry-failed' }],
    ['advance past an operator pause', 'paused', { type: 'advance' }],
    ['abort twice', 'aborted', { type: 'abort' }],
  ] as const)('illegal: %s → E_TRANSITION, nothing changes', (_n, setup, cmd) => {
    const sim = newSim(fleet(5));
    if (setup !== 'draft') command(sim, { type: 'start' });
    if (setup === 'paused') command(sim, { type: 'pause', reason: 'x' });
    if (setup === 'aborted') command(sim, { type: 'abort' });
    const before = serializeSnapshot(sim.rollout);
    const r = applyOperatorCommand(sim.rollout, cmd, { now: sim.now, executions: [...sim.execs.values()], devices: sim.devices });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.code).toBe('E_TRANSITION');
    expect(serializeSnapshot(sim.rollout)).toBe(before);
  });

  it('operator pause stops deliveries but timeouts still run; abort freezes everything', () => {
    const sim = newSim(fleet(30), { plan: { waves: [{ limit: { percent: 100 } }] }, config: { rate: { perSecond: 10, burst: 10 } } });
    command(sim, { type: 'start' });
    tick(sim);
    command(sim, { type: 'pause', reason: 'lunch' });
    sim.now += 3 * MIN;
    const r = tick(sim);
    expect(r.commands).toEqual([]);
    expect(summarizeExecutions([...sim.execs.values()]).byKind).toMatchObject({ DELIVERED: 0, QUEUED: 30 });
    command(sim, { type: 'abort', reason: 'enough' });
    sim.now += 60 * MIN;
    expect(tick(sim)).toMatchObject({ commands: [], executions: [], gate: null });
  });

  it('operator advance skips the gate mid-wave', () => {
    const sim = newSim(fleet(10), { plan: { waves: [{ limit: { count: 1 } }, { limit: { percent: 100 } }] } });
    command(sim, { type: 'start' });
    command(sim, { type: 'advance' });
    expect(sim.rollout.state).toMatchObject({ kind: 'RUNNING', wave: 1 });
    command(sim, { type: 'advance' });
    expect(stateKind(sim)).toBe('COMPLETED');
  });
});

describe('waves and late joiners', () => {
  it('empty waves are skipped at once', () => {
    const plan = { waves: [{ selector: { deviceClasses: ['none'] }, limit: { count: 1 } }, { limit: { count: 2 } }, { limit: { percent: 100 } }] };
    const sim = newSim(fleet(5), { plan });
    command(sim, { type: 'start' });
    expect(sim.rollout.state).toMatchObject({ kind: 'RUNNING', wave: 1 });
    expect(sim.rollout.waves[0]).toMatchObject({ index: 0, enrolled: 0, endedAt: T0 });
  });

  it('an empty fleet completes at start', () => {
    const sim = newSim([]);
    command(sim, { type: 'start' });
    expect(stateKind(sim)).toBe('COMPLETED');
  });

  it('the pin set target restricts the rollout', () => {
    const devices = [...fleet(3), ...fleet(3, { deviceClass: 'cam' }, 'cam')];
    const sim = newSim(devices, { plan: { waves: [{ limit: { percent: 100 } }] }, target: { deviceClasses: ['cam'] } });
    command(sim, { type: 'start' });
    expect(waveMembers(sim, 0)).toEqual(['cam-0000', 'cam-0001', 'cam-0002']);
  });

  it('join before the last wave → picked by a later wave; during the last wave → enrolled at once; after completion → not', () => {
    const plan = { waves: [{ limit: { count: 2 } }, { limit: { percent: 100 } }] };
    const sim = newSim(fleet(4), { plan });
    command(sim, { type: 'start' });
    tick(sim);
    sim.devices = [...sim.devices, device('late-1')];
    tick(sim);
    expect(sim.execs.has('late-1')).toBe(false);
    verifyDelivered(sim);
    tick(sim);
    sim.now += SOAK;
    tick(sim); // wave 1 (rest) starts and takes late-1
    expect(waveMembers(sim, 1)).toContain('late-1');
    sim.devices = [...sim.devices, device('late-2')];
    hello(sim, 'late-2');
    expect(sim.execs.get('late-2')).toMatchObject({ wave: 1, state: { kind: 'DELIVERED' } });
    sim.devices = [...sim.devices, device('late-3', { online: false })];
    tick(sim);
    expect(sim.execs.get('late-3')).toMatchObject({ wave: 1, state: { kind: 'QUEUED' } });
    expect(sim.rollout.waves[1]?.enrolled).toBe(5);
    // complete with 95 %: late-3 is 1 of 5 offline → 80 %, hold; it reconnects and verifies
    verifyDelivered(sim);
    tick(sim);
    expect(sim.rollout.state).toMatchObject({ kind: 'RUNNING', soakStartedAt: null });
    sim.devices = sim.devices.map((d) => ({ ...d, online: true }));
    hello(sim, 'late-3');
    verifyDelivered(sim);
    tick(sim);
    sim.now += SOAK;
    tick(sim);
    expect(stateKind(sim)).toBe('COMPLETED');
    sim.devices = [...sim.devices, device('late-4')];
    tick(sim);
    hello(sim, 'late-4');
    expect(sim.execs.has('late-4')).toBe(false);
  });

  it('a COMPLETED rollout still serves its stragglers on reconnect', () => {
    const sim = newSim([...fleet(20), device('z-off', { online: false })], { plan: { waves: [{ limit: { percent: 100 } }] } });
    command(sim, { type: 'start' });
    tick(sim);
    verifyDelivered(sim); // 20/21 = 95.2 %
    tick(sim);
    sim.now += SOAK;
    tick(sim);
    expect(stateKind(sim)).toBe('COMPLETED');
    expect(kindOf(sim, 'z-off')).toBe('QUEUED');
    sim.devices = sim.devices.map((d) => ({ ...d, online: true }));
    expect(hello(sim, 'z-off').commands).toHaveLength(1);
  });
});

describe('acks', () => {
  it('an ack for another seq changes nothing', () => {
    const sim = newSim([device('a')], { plan: { waves: [{ limit: { count: 1 } }] } });
    command(sim, { type: 'start' });
    tick(sim);
    const e = sim.execs.get('a') as ExecutionRecord;
    const r = onAck(sim.rollout, e, { seq: 6, status: 'verified' }, sim.now);
    expect(r.executions).toEqual([]);
    expect(onAck(sim.rollout, e, { seq: 7, status: 'verified' }, sim.now).executions).toHaveLength(1);
  });
});

describe('supersede', () => {
  it('a running rollout ends ABORTED(superseded); active executions → SUPERSEDED, finished ones stay', () => {
    const sim = newSim(fleet(10), { plan: { waves: [{ limit: { count: 5 } }, { limit: { percent: 100 } }] } });
    command(sim, { type: 'start' });
    tick(sim);
    const [v, r] = waveMembers(sim, 0);
    ack(sim, v as string, 'verified');
    ack(sim, r as string, 'rejected', 'E_SIG');
    const res = supersede(sim.rollout, [...sim.execs.values()], 'r2', sim.now);
    sim.rollout = res.rollout;
    for (const e of res.executions) sim.execs.set(e.deviceId, e);
    expect(sim.rollout.state).toEqual({ kind: 'ABORTED', at: sim.now, reason: { kind: 'superseded', by: 'r2' } });
    expect(summarizeExecutions([...sim.execs.values()]).byKind).toMatchObject({ VERIFIED: 1, REJECTED: 1, SUPERSEDED: 3, DELIVERED: 0 });
    expect(res.executions).toHaveLength(3);
    ack(sim, waveMembers(sim, 0)[2] as string, 'verified'); // late ack: absorbed
    expect(summarizeExecutions([...sim.execs.values()]).byKind.SUPERSEDED).toBe(3);
    sim.now += MIN;
    expect(tick(sim).commands).toEqual([]);
    expect(tryCommand(sim, { type: 'resume' })).toBe(false);
  });

  it('a COMPLETED rollout stays COMPLETED; its stragglers become SUPERSEDED', () => {
    const sim = newSim([...fleet(20), device('z-off', { online: false })], { plan: { waves: [{ limit: { percent: 100 } }] } });
    command(sim, { type: 'start' });
    tick(sim);
    verifyDelivered(sim);
    tick(sim);
    sim.now += SOAK;
    tick(sim);
    const res = supersede(sim.rollout, [...sim.execs.values()], 'r2', sim.now);
    expect(res.rollout.state.kind).toBe('COMPLETED');
    expect(res.executions.map((e) => [e.deviceId, e.state.kind])).toEqual([['z-off', 'SUPERSEDED']]);
  });
});

describe('restart mid-wave', () => {
  function clone(sim: Sim): Sim {
    const parsed = parseSnapshot(serializeSnapshot(sim.rollout));
    if (!parsed.ok) throw new Error(parsed.error);
    const execs = JSON.parse(JSON.stringify([...sim.execs.values()])) as ExecutionRecord[];
    return { ...sim, rollout: parsed.rollout, execs: new Map(execs.map((e) => [e.deviceId, e])), sent: [], devices: [...sim.devices] };
  }

  it('JSON round trip of snapshot + rows continues with identical results', () => {
    const devices = [...fleet(300), ...fleet(5, { online: false }, 'off')];
    const config = { rate: { perSecond: 7, burst: 13 }, delivery: { deliveryTimeoutMs: 30_000, backoffBaseMs: 5_000 } };
    const a = newSim(devices, { config, plan: { waves: [{ limit: { count: 40 } }, { limit: { percent: 100 } }] } });
    command(a, { type: 'start' });
    // mid-wave: partial deliveries, some acks, a fractional bucket, a soak not yet started
    for (let i = 0; i < 3; i++) {
      a.now += 1300;
      tick(a);
    }
    const firstDelivered = [...a.execs.values()].filter((e) => e.state.kind === 'DELIVERED').map((e) => e.deviceId).sort();
    for (const id of firstDelivered.slice(0, 10)) ack(a, id, 'verified');
    ack(a, firstDelivered[10] as string, 'rejected', 'E_NOT_YET');
    ack(a, firstDelivered[11] as string, 'applied');
    const b = clone(a);
    expect(b.rollout).toEqual(a.rollout);

    // identical script on both
    const script = (s: Sim, i: number): unknown => {
      s.now += 900 + (i % 5) * 1000;
      const r = tick(s, { reports: i, mismatches: 0 });
      if (i % 4 === 0) verifyDelivered(s);
      if (i === 20) s.devices = s.devices.map((d) => ({ ...d, online: true }));
      if (i === 21) hello(s, 'off-0002');
      if (i === 30 || i === 40) s.now += 20 * MIN;
      if (i % 10 === 5 && s.rollout.state.kind === 'PAUSED') command(s, { type: 'resume' });
      return { commands: r.commands, executions: r.executions, notes: r.notes, gate: r.gate, nextWakeAt: r.nextWakeAt, rollout: r.rollout };
    };
    for (let i = 0; i < 60; i++) expect(script(b, i)).toEqual(script(a, i));
    expect(serializeSnapshot(b.rollout)).toBe(serializeSnapshot(a.rollout));
    // the script really went through wave 0 into wave 1 and beyond the first deliveries
    expect(a.rollout.waves).toHaveLength(2);
    expect(a.sent.length).toBeGreaterThan(100);
  });

  it('parseSnapshot refuses garbage', () => {
    expect(parseSnapshot('nope').ok).toBe(false);
    expect(parseSnapshot('{"format":2}').ok).toBe(false);
    expect(parseSnapshot('{"format":1}').ok).toBe(false);
  });
});

