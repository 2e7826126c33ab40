import { describe, expect, it } from 'vitest';
import {
  summarizeExecutions,
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
  verifyDelivered,
  waveMembers,
  type Sim,
} from './harness.js';

const SOAK = 10 * MIN;

/** Drive waves to completion: verify everything delivered, wait out the soak, repeat. */
function runToEnd(sim: Sim, maxRounds = 50): string[] {
  const seen: string[] = [];
  for (let i = 0; i < maxRounds && stateKind(sim) === 'RUNNING'; i++) {
    tick(sim);
    verifyDelivered(sim);
    tick(sim); // starts the soak
    sim.now += SOAK;
    tick(sim); // advances (and delivers the next wave)
    seen.push(`${stateKind(sim)}:${sim.rollout.state.kind === 'RUNNING' ? sim.rollout.state.wave : '-'}`);
  }
  return seen;
}

describe('happy path, default plan', () => {
  it('100 devices go through 5 waves and COMPLETED; each device delivered once', () => {
    const sim = newSim(fleet(100));
    command(sim, { type: 'start' });
    expect(sim.rollout.state).toMatchObject({ kind: 'RUNNING', wave: 0 });
    expect(waveMembers(sim, 0)).toHaveLength(1);
    expect(sim.sent).toHaveLength(0); // commands never deliver; the tick does
    expect(runToEnd(sim)).toEqual(['RUNNING:1', 'RUNNING:2', 'RUNNING:3', 'RUNNING:4', 'COMPLETED:-']);
    expect(sim.rollout.waves.map((w) => w.enrolled)).toEqual([1, 10, 23, 33, 33]);
    expect(sim.rollout.waves.every((w) => w.endedAt !== null)).toBe(true);
    expect(sim.sent).toHaveLength(100);
    expect(new Set(sim.sent.map((c) => c.deviceId)).size).toBe(100);
    expect(summarizeExecutions([...sim.execs.values()]).byKind.VERIFIED).toBe(100);
  });

  it('does not advance before the soak is over, nor below 95 %', () => {
    const sim = newSim(fleet(40), { plan: { waves: [{ limit: { count: 20 } }, { limit: { percent: 100 } }] } });
    command(sim, { type: 'start' });
    tick(sim);
    const missing = new Set(waveMembers(sim, 0).slice(0, 2)); // 18/20 = 90 %
    verifyDelivered(sim, missing);
    tick(sim);
    sim.now += 2 * SOAK;
    expect(tick(sim).gate).toMatchObject({ kind: 'hold', soakStartedAt: null });
    const [one] = [...missing];
    ack(sim, one as string, 'verified'); // 19/20 = 95 %
    expect(tick(sim).gate).toMatchObject({ kind: 'hold', soakStartedAt: sim.now });
    sim.now += SOAK - 1;
    tick(sim);
    expect(sim.rollout.state).toMatchObject({ kind: 'RUNNING', wave: 0 });
    sim.now += 1;
    tick(sim);
    expect(sim.rollout.state).toMatchObject({ kind: 'RUNNING', wave: 1 });
  });
});

describe('rate limit (token bucket in the snapshot)', () => {
  it('at most perSecond deliveries per second, bursts up to burst; offline devices take no token', () => {
    const devices = [...fleet(100), ...fleet(10, { online: false }, 'off')];
    const sim = newSim(devices, { plan: { waves: [{ limit: { percent: 100 } }] }, config: { rate: { perSecond: 10, burst: 20 } } });
    command(sim, { type: 'start' });
    const counts: number[] = [];
    for (const dt of [0, 0, 500, 500, 10_000, 100]) {
      sim.now += dt;
      counts.push(tick(sim).commands.length);
    }
    expect(counts).toEqual([20, 0, 5, 5, 20, 1]);
    expect(sim.sent.every((c) => c.deviceId.startsWith('dev-'))).toBe(true);
    // 110 devices, 51 sent, the rest (incl. all offline) still QUEUED with no attempt
    const s = summarizeExecutions([...sim.execs.values()]);
    expect(s.byKind.DELIVERED).toBe(51);
    expect(s.byKind.QUEUED).toBe(59);
  });
});

describe('offline devices and reconnects', () => {
  it('stay QUEUED forever without attempts, and are served on hello', () => {
    const sim = newSim([device('a', { online: false }), device('b')], { plan: { waves: [{ limit: { percent: 100 } }] } });
    command(sim, { type: 'start' });
    for (let i = 0; i < 5; i++) {
      tick(sim);
      sim.now += 60 * MIN;
    }
    expect(sim.execs.get('a')?.state).toEqual({ kind: 'QUEUED', attempts: 0, nextAttemptAt: T0 });
    sim.devices = [device('a'), device('b')];
    const r = hello(sim, 'a');
    expect(r.commands).toEqual([{ type: 'deliver', deviceId: 'a', attempt: 1 }]);
    expect(kindOf(sim, 'a')).toBe('DELIVERED');
  });

  it('a hello during backoff resends at once (subject to the bucket)', () => {
    const sim = newSim([device('a')], { plan: { waves: [{ limit: { count: 1 } }] }, config: { rate: { perSecond: 1, burst: 1 } } });
    command(sim, { type: 'start' });
    tick(sim); // delivered, attempt 1
    sim.now += 2 * MIN; // delivery timeout (default 2 min) → backoff 30 s
    tick(sim);
    expect(sim.execs.get('a')?.state).toEqual({ kind: 'QUEUED', attempts: 1, nextAttemptAt: T0 + 2 * MIN + 30_000 });
    expect(hello(sim, 'a').commands).toEqual([{ type: 'deliver', deviceId: 'a', attempt: 2 }]);
    // the bucket is now empty: a reconnect right after (DELIVERED without ack) requeues but cannot send
    expect(hello(sim, 'a').commands).toEqual([]);
    expect(sim.execs.get('a')?.state).toEqual({ kind: 'QUEUED', attempts: 2, nextAttemptAt: sim.now });
    sim.now += 1000;
    expect(tick(sim).commands).toEqual([{ type: 'deliver', deviceId: 'a', attempt: 3 }]);
  });
});

describe('delivery retries inside the engine', () => {
  it('retries with backoff up to the cap, then TIMED_OUT; counted once', () => {
    const policy = { deliveryTimeoutMs: 60_000, maxAttempts: 3, backoffBaseMs: 10_000, backoffMaxMs: 15_000 };
    const sim = newSim([device('a')], { plan: { waves: [{ limit: { count: 1 } }] }, config: { delivery: policy } });
    command(sim, { type: 'start' });
    const times: number[] = [];
    for (let t = 0; t <= 10 * MIN; t += 1000) {
      sim.now = T0 + t;
      if (tick(sim).commands.length > 0) times.push(t);
    }
    expect(times).toEqual([0, 70_000, 145_000]);
    expect(sim.execs.get('a')?.state).toEqual({ kind: 'TIMED_OUT', attempts: 3, phase: 'delivery', at: T0 + 205_000 });
    expect(summarizeExecutions([...sim.execs.values()]).byKind).toMatchObject({ TIMED_OUT: 1, QUEUED: 0, DELIVERED: 0 });
  });

  it('verify timeout is final; a late verified still wins', () => {
    const sim = newSim([device('a')], { plan: { waves: [{ limit: { count: 1 } }] } });
    command(sim, { type: 'start' });
    tick(sim);
    ack(sim, 'a', 'applied');
    sim.now += 10 * MIN - 1;
    tick(sim);
    expect(kindOf(sim, 'a')).toBe('APPLIED');
    sim.now += 1;
    tick(sim);
    expect(sim.execs.get('a')?.state).toMatchObject({ kind: 'TIMED_OUT', phase: 'verify' });
    ack(sim, 'a', 'verified');
    expect(kindOf(sim, 'a')).toBe('VERIFIED');
  });
});

describe('nextWakeAt (tick scheduling hint)', () => {
  it('delivery timeout, token refill, soak end; null when only a hello can help', () => {
    const sim = newSim([device('a'), device('b'), device('c', { online: false })], {
      plan: { waves: [{ limit: { percent: 100 } }] },
      config: { rate: { perSecond: 2, burst: 1 } },
    });
    command(sim, { type: 'start' });
    // one token: 'a' or 'b' goes out, the other waits 500 ms for a token
    expect(tick(sim).nextWakeAt).toBe(T0 + 500);
    sim.now += 500;
    expect(tick(sim).nextWakeAt).toBe(T0 + 2 * MIN); // first delivery's timeout
    verifyDelivered(sim); // 2/3 verified: gate holds, 'c' offline and QUEUED
    expect(tick(sim).nextWakeAt).toBeNull();
    sim.devices = sim.devices.map((d) => ({ ...d, online: true }));
    expect(hello(sim, 'c').commands).toEqual([]); // bucket empty: waits for the next token
    expect(tick(sim).nextWakeAt).toBe(T0 + 1000);
    sim.now = T0 + 1000;
    expect(tick(sim).commands).toEqual([{ type: 'deliver', deviceId: 'c', attempt: 1 }]);
    verifyDelivered(sim);
    expect(tick(sim).nextWakeAt).toBe(sim.now + SOAK);
  });
});
