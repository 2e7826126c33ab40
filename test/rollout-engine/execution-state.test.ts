import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  applyExecutionEvent,
  backoffDelay,
  DEFAULT_DELIVERY_POLICY,
  EXECUTION_KINDS,
  isFailedExecution,
  isFinishedExecution,
  queued,
  type DeliveryPolicy,
  type ExecutionEvent,
  type ExecutionKind,
  type ExecutionState,
} from '../../gateway/rollout-engine/index.js';

const P: DeliveryPolicy = {
  deliveryTimeoutMs: 60_000,
  verifyTimeoutMs: 300_000,
  maxAttempts: 4,
  backoffBaseMs: 10_000,
  backoffMaxMs: 25_000,
};

const Q: ExecutionState = { kind: 'QUEUED', attempts: 0, nextAttemptAt: 0 };
const D: ExecutionState = { kind: 'DELIVERED', attempts: 1, deliveredAt: 100 };
const A: ExecutionState = { kind: 'APPLIED', attempts: 1, appliedAt: 200 };
const V: ExecutionState = { kind: 'VERIFIED', attempts: 1, at: 300 };
const R: ExecutionState = { kind: 'REJECTED', attempts: 1, code: 'E_WOULD_BRICK', at: 300 };
const TD: ExecutionState = { kind: 'TIMED_OUT', attempts: 4, phase: 'delivery', at: 300 };
const TV: ExecutionState = { kind: 'TIMED_OUT', attempts: 1, phase: 'verify', at: 300 };
const S: ExecutionState = { kind: 'SUPERSEDED', attempts: 1, at: 300 };

type Row = [string, ExecutionState, ExecutionEvent, ExecutionState | 'same'];
const rows: Row[] = [
  ['deliver queued', Q, { type: 'delivered', at: 5 }, { kind: 'DELIVERED', attempts: 1, deliveredAt: 5 }],
  ['deliver delivered (duplicate)', D, { type: 'delivered', at: 5 }, 'same'],
  ['applied', D, { type: 'applied', at: 150 }, { kind: 'APPLIED', attempts: 1, appliedAt: 150 }],
  ['applied while requeued (ack of an older attempt is still the device applying)', { kind: 'QUEUED', attempts: 1, nextAttemptAt: 999 }, { type: 'applied', at: 150 }, { kind: 'APPLIED', attempts: 1, appliedAt: 150 }],
  ['applied twice', A, { type: 'applied', at: 250 }, 'same'],
  ['applied after verified', V, { type: 'applied', at: 400 }, 'same'],
  ['verified', A, { type: 'verified', at: 250 }, { kind: 'VERIFIED', attempts: 1, at: 250 }],
  ['verified without applied implies applied', D, { type: 'verified', at: 250 }, { kind: 'VERIFIED', attempts: 1, at: 250 }],
  ['verified twice', V, { type: 'verified', at: 999 }, 'same'],
  ['rejected', D, { type: 'rejected', at: 150, code: 'E_SIG' }, { kind: 'REJECTED', attempts: 1, code: 'E_SIG', at: 150 }],
  ['rejected after applied is a no-op', A, { type: 'rejected', at: 250, code: 'E_SIG' }, 'same'],
  ['rejected after verified is a no-op', V, { type: 'rejected', at: 350, code: 'E_SIG' }, 'same'],
  ['acks after rejected are no-ops', R, { type: 'verified', at: 400 }, 'same'],
  ['late verified after TIMED_OUT(delivery) wins', TD, { type: 'verified', at: 400 }, { kind: 'VERIFIED', attempts: 4, at: 400 }],
  ['late applied after TIMED_OUT(delivery) wins', TD, { type: 'applied', at: 400 }, { kind: 'APPLIED', attempts: 4, appliedAt: 400 }],
  ['late applied after TIMED_OUT(verify) is a duplicate', TV, { type: 'applied', at: 400 }, 'same'],
  ['late verified after TIMED_OUT(verify) wins', TV, { type: 'verified', at: 400 }, { kind: 'VERIFIED', attempts: 1, at: 400 }],
  ['anything after SUPERSEDED', S, { type: 'verified', at: 400 }, 'same'],
  ['supersede queued', Q, { type: 'superseded', at: 9 }, { kind: 'SUPERSEDED', attempts: 0, at: 9 }],
  ['supersede applied', A, { type: 'superseded', at: 9 }, { kind: 'SUPERSEDED', attempts: 1, at: 9 }],
  ['supersede keeps verified', V, { type: 'superseded', at: 9 }, 'same'],
  ['supersede keeps rejected', R, { type: 'superseded', at: 9 }, 'same'],
  ['retry rejected', R, { type: 'retry', at: 9 }, { kind: 'QUEUED', attempts: 0, nextAttemptAt: 9 }],
  ['retry timed out', TD, { type: 'retry', at: 9 }, { kind: 'QUEUED', attempts: 0, nextAttemptAt: 9 }],
  ['retry verified is a no-op', V, { type: 'retry', at: 9 }, 'same'],
  ['retry queued is a no-op', Q, { type: 'retry', at: 9 }, 'same'],
  ['reconnect clears backoff', { kind: 'QUEUED', attempts: 2, nextAttemptAt: 5000 }, { type: 'reconnected', at: 10 }, { kind: 'QUEUED', attempts: 2, nextAttemptAt: 10 }],
  ['reconnect when already due', { kind: 'QUEUED', attempts: 2, nextAttemptAt: 5 }, { type: 'reconnected', at: 10 }, 'same'],
  ['reconnect after delivery without ack requeues now', D, { type: 'reconnected', at: 150 }, { kind: 'QUEUED', attempts: 1, nextAttemptAt: 150 }],
  ['reconnect after the last attempt gives up', { kind: 'DELIVERED', attempts: 4, deliveredAt: 100 }, { type: 'reconnected', at: 150 }, { kind: 'TIMED_OUT', attempts: 4, phase: 'delivery', at: 150 }],
  ['reconnect while applied', A, { type: 'reconnected', at: 250 }, 'same'],
];

describe('execution transitions (SPEC §7)', () => {
  it.each(rows)('%s', (_n, from, event, expected) => {
    const r = applyExecutionEvent(from, event, P);
    if (expected === 'same') {
      expect(r.changed).toBe(false);
      expect(r.state).toBe(from);
    } else {
      expect(r.changed).toBe(true);
      expect(r.state).toEqual(expected);
    }
  });
});

describe('timeouts (boundaries exact)', () => {
  type TRow = [string, ExecutionState, number, ExecutionState | 'same'];
  const t: TRow[] = [
    ['delivery: 1 ms before the deadline', D, 100 + 60_000 - 1, 'same'],
    ['delivery: at the deadline → backoff from the deadline', D, 100 + 60_000, { kind: 'QUEUED', attempts: 1, nextAttemptAt: 100 + 60_000 + 10_000 }],
    ['delivery: long after the deadline, same schedule', D, 10_000_000, { kind: 'QUEUED', attempts: 1, nextAttemptAt: 100 + 60_000 + 10_000 }],
    ['delivery: last attempt → TIMED_OUT', { kind: 'DELIVERED', attempts: 4, deliveredAt: 100 }, 60_100, { kind: 'TIMED_OUT', attempts: 4, phase: 'delivery', at: 60_100 }],
    ['verify: 1 ms before', A, 200 + 300_000 - 1, 'same'],
    ['verify: at the deadline', A, 200 + 300_000, { kind: 'TIMED_OUT', attempts: 1, phase: 'verify', at: 300_200 }],
    ['queued never times out (offline stays queued)', Q, 1e12, 'same'],
    ['verified never times out', V, 1e12, 'same'],
  ];
  it.each(t)('%s', (_n, from, now, expected) => {
    const r = applyExecutionEvent(from, { type: 'check', now }, P);
    if (expected === 'same') expect(r.changed).toBe(false);
    else expect(r.state).toEqual(expected);
  });
});

describe('backoff', () => {
  it.each([
    [1, 10_000],
    [2, 20_000],
    [3, 25_000],
    [4, 25_000],
    [1000, 25_000],
  ])('after %i failed attempt(s): %i ms', (n, ms) => {
    expect(backoffDelay(n, P)).toBe(ms);
  });

  it('full schedule: deliver, time out, back off, … until the cap of attempts', () => {
    let s = queued(0);
    let now = 0;
    const deliveries: number[] = [];
    for (let guard = 0; guard < 10_000 && !isFinishedExecution(s); guard++) {
      if (s.kind === 'QUEUED') {
        now = s.nextAttemptAt;
        deliveries.push(now);
        s = applyExecutionEvent(s, { type: 'delivered', at: now }, P).state;
      } else {
        now += 1000;
        s = applyExecutionEvent(s, { type: 'check', now }, P).state;
      }
    }
    // deliveryTimeout 60 s, backoffs 10 s, 20 s, 25 s (cap), 4 attempts max.
    expect(deliveries).toEqual([0, 70_000, 150_000, 235_000]);
    expect(s).toEqual({ kind: 'TIMED_OUT', attempts: 4, phase: 'delivery', at: 295_000 });
  });

  it('default policy is sane', () => {
    expect(DEFAULT_DELIVERY_POLICY.maxAttempts).toBeGreaterThan(1);
    expect(backoffDelay(50, DEFAULT_DELIVERY_POLICY)).toBe(DEFAULT_DELIVERY_POLICY.backoffMaxMs);
  });
});

describe('property: per-device counting', () => {
  const eventArb: fc.Arbitrary<(at: number) => ExecutionEvent> = fc.oneof(
    fc.constant((at: number): ExecutionEvent => ({ type: 'delivered', at })),
    fc.constant((at: number): ExecutionEvent => ({ type: 'applied', at })),
    fc.constant((at: number): ExecutionEvent => ({ type: 'verified', at })),
    fc.constantFrom('E_SIG', 'E_STORAGE').map((code) => (at: number): ExecutionEvent => ({ type: 'rejected', at, code })),
    fc.constant((at: number): ExecutionEvent => ({ type: 'check', now: at })),
    fc.constant((at: number): ExecutionEvent => ({ type: 'reconnected', at })),
    fc.constant((at: number): ExecutionEvent => ({ type: 'retry', at })),
    fc.constant((at: number): ExecutionEvent => ({ type: 'superseded', at })),
  );

  it('counts never exceed the devices, each device in exactly one state, no regressions out of VERIFIED', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 12 }),
        fc.array(fc.tuple(fc.nat(), eventArb, fc.integer({ min: 0, max: 200_000 })), { maxLength: 300 }),
        (n, events) => {
          const states: ExecutionState[] = Array.from({ length: n }, () => queued(0));
          let now = 0;
          for (const [who, mk, dt] of events) {
            now += dt;
            const i = who % n;
            const before = states[i] as ExecutionState;
            const r = applyExecutionEvent(before, mk(now), P);
            states[i] = r.state;
            // VERIFIED and SUPERSEDED absorb everything.
            if (before.kind === 'VERIFIED' || before.kind === 'SUPERSEDED') expect(r.changed).toBe(false);
            // attempts never exceed the cap (+0: delivered only from QUEUED, requeue only below the cap).
            expect(r.state.attempts).toBeLessThanOrEqual(P.maxAttempts);
          }
          const counts = new Map<ExecutionKind, number>();
          for (const s of states) counts.set(s.kind, (counts.get(s.kind) ?? 0) + 1);
          let sum = 0;
          for (const k of EXECUTION_KINDS) {
            const c = counts.get(k) ?? 0;
            expect(c).toBeLessThanOrEqual(n);
            sum += c;
          }
          expect(sum).toBe(n); // every device in exactly one state
          const finished = states.filter(isFinishedExecution).length;
          const failed = states.filter(isFailedExecution).length;
          expect(failed).toBeLessThanOrEqual(finished);
        },
      ),
      { numRuns: 300, seed: 42 },
    );
  });

  it('idempotence: applying any event twice in a row changes nothing the second time (except check/delivered)', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(eventArb, fc.integer({ min: 0, max: 100_000 })), { maxLength: 50 }), eventArb, (prefix, mk) => {
        let s = queued(0);
        let now = 0;
        for (const [m, dt] of prefix) {
          now += dt;
          s = applyExecutionEvent(s, m(now), P).state;
        }
        const e = mk(now + 1);
        if (e.type === 'retry') return; // retry then retry: second is a no-op too, covered below
        const once = applyExecutionEvent(s, e, P).state;
        const twice = applyExecutionEvent(once, e, P);
        if (e.type === 'delivered' || e.type === 'reconnected') return; // a new attempt each time by design
        expect(twice.changed).toBe(false);
      }),
      { numRuns: 300, seed: 7 },
    );
  });
});
