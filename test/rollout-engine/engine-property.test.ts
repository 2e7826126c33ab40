import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EXECUTION_KINDS, onAck, summarizeExecutions, type OperatorCommand } from '../../gateway/rollout-engine/index.js';
import { applyResult, device, fleet, hello, newSim, tick, tryCommand } from './harness.js';

type Action =
  | { t: 'tick'; dt: number }
  | { t: 'ack'; who: number; status: 'applied' | 'verified' | 'rejected' }
  | { t: 'hello'; who: number }
  | { t: 'toggle'; who: number }
  | { t: 'join' }
  | { t: 'op'; cmd: OperatorCommand };

const actionArb: fc.Arbitrary<Action> = fc.oneof(
  { weight: 5, arbitrary: fc.integer({ min: 0, max: 400_000 }).map((dt): Action => ({ t: 'tick', dt })) },
  {
    weight: 6,
    arbitrary: fc
      .tuple(fc.nat(), fc.constantFrom('applied' as const, 'verified' as const, 'verified' as const, 'rejected' as const))
      .map(([who, status]): Action => ({ t: 'ack', who, status })),
  },
  { weight: 2, arbitrary: fc.nat().map((who): Action => ({ t: 'hello', who })) },
  { weight: 2, arbitrary: fc.nat().map((who): Action => ({ t: 'toggle', who })) },
  { weight: 1, arbitrary: fc.constant<Action>({ t: 'join' }) },
  {
    weight: 1,
    arbitrary: fc
      .constantFrom<OperatorCommand>({ type: 'pause' }, { type: 'resume' }, { type: 'advance' }, { type: 'retry-failed' }, { type: 'abort' })
      .map((cmd): Action => ({ t: 'op', cmd })),
  },
);

describe('property: random device events against the engine', () => {
  it('per-device counts never exceed the devices; each device has at most one execution, in exactly one state', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 40 }), fc.array(actionArb, { maxLength: 120 }), fc.boolean(), (n, actions, approval) => {
        const sim = newSim(fleet(n, {}), {
          config: { rate: { perSecond: 5, burst: 8 }, gates: { manualApproval: approval, soakMs: 60_000 } },
        });
        tryCommand(sim, { type: 'start' });
        let joined = 0;
        let prevTickAt = sim.now;
        for (const a of actions) {
          const pick = (who: number) => sim.devices[who % Math.max(1, sim.devices.length)];
          switch (a.t) {
            case 'tick': {
              sim.now += a.dt;
              const r = tick(sim);
              // rate limit: never more than the burst in one tick
              expect(r.commands.length).toBeLessThanOrEqual(8);
              // no duplicate rows in one result
              expect(new Set(r.executions.map((e) => e.deviceId)).size).toBe(r.executions.length);
              // every delivered device is DELIVERED with the reported attempt, within the cap
              for (const c of r.commands) {
                const e = sim.execs.get(c.deviceId);
                expect(e?.state.kind).toBe('DELIVERED');
                expect(e?.state.attempts).toBe(c.attempt);
                expect(c.attempt).toBeLessThanOrEqual(5);
              }
              prevTickAt = sim.now;
              break;
            }
            case 'ack': {
              const d = pick(a.who);
              const e = d === undefined ? undefined : sim.execs.get(d.deviceId);
              if (e !== undefined) {
                applyResult(sim, onAck(sim.rollout, e, { seq: 7, status: a.status, ...(a.status === 'rejected' ? { code: 'E_SIG' } : {}) }, sim.now));
              }
              break;
            }
            case 'hello': {
              const d = pick(a.who);
              if (d !== undefined && d.online) hello(sim, d.deviceId);
              break;
            }
            case 'toggle': {
              const i = a.who % Math.max(1, sim.devices.length);
              sim.devices = sim.devices.map((d, j) => (j === i ? { ...d, online: !d.online } : d));
              break;
            }
            case 'join':
              sim.devices = [...sim.devices, device(`late-${joined++}`)];
              break;
            case 'op':
              tryCommand(sim, a.cmd);
              break;
          }
          // invariants after every action
          const rows = [...sim.execs.values()];
          const s = summarizeExecutions(rows);
          expect(s.total).toBeLessThanOrEqual(sim.devices.length);
          let sum = 0;
          for (const k of EXECUTION_KINDS) {
            expect(s.byKind[k]).toBeLessThanOrEqual(sim.devices.length);
            sum += s.byKind[k];
          }
          expect(sum).toBe(rows.length);
          for (const w of sim.rollout.waves) expect(w.enrolled).toBe(rows.filter((e) => e.wave === w.index).length);
          expect(rows.every((e) => sim.devices.some((d) => d.deviceId === e.deviceId))).toBe(true);
          expect(sim.rollout.bucket.tokens).toBeGreaterThanOrEqual(0);
          expect(sim.rollout.bucket.tokens).toBeLessThanOrEqual(8);
        }
        expect(prevTickAt).toBeLessThanOrEqual(sim.now);
      }),
      { numRuns: 150, seed: 20260101 },
    );
  });
});
