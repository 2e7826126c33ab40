import { describe, expect, it } from 'vitest';
import {
  DEFAULT_GATES,
  evaluateGates,
  type GateConfig,
  type GateCounts,
  type RolloutState,
} from '../../gateway/rollout-engine/index.js';

const SOAK = DEFAULT_GATES.soakMs;
const run = (over: Partial<Extract<RolloutState, { kind: 'RUNNING' }>> = {}): RolloutState => ({
  kind: 'RUNNING',
  wave: 1,
  waveCount: 5,
  since: 0,
  soakStartedAt: null,
  ...over,
});
const counts = (wave: [number, number] | [number, number, number], window: [number, number] = [0, 0], tele: [number, number] = [0, 0]): GateCounts => ({
  wave: { size: wave[0], verified: wave[1], failed: wave[2] ?? 0 },
  window: { finished: window[0], failed: window[1] },
  telemetry: { reports: tele[0], mismatches: tele[1] },
});
const ev = (state: RolloutState, c: GateCounts, now: number, gates: GateConfig = DEFAULT_GATES) =>
  evaluateGates({ state, config: { gates } }, c, now);

describe('success gate (default ≥ 95 % verified, then soak)', () => {
  it.each([
    ['95 % exactly passes', [20, 19], true],
    ['94.99 % holds', [10_000, 9_499], false],
    ['95.00 % of 10 000 passes', [10_000, 9_500], true],
    ['100 %', [5, 5], true],
    ['4/5 = 80 % holds', [5, 4], false],
    ['one device, verified', [1, 1], true],
    ['one device, not verified', [1, 0], false],
  ] as const)('%s', (_n, wave, holds) => {
    const d = ev(run(), counts([wave[0], wave[1]]), 1000);
    // With no soak running, a holding gate starts the soak; otherwise it holds with no soak.
    expect(d).toMatchObject({ kind: 'hold', soakStartedAt: holds ? 1000 : null });
  });

  it.each([
    ['soak just started', 0, { kind: 'hold', soakStartedAt: 0 }],
    ['1 ms before the soak ends', SOAK - 1, { kind: 'hold', soakStartedAt: 0 }],
    ['soak ends exactly', SOAK, { kind: 'advance' }],
  ] as const)('%s', (_n, now, expected) => {
    expect(ev(run({ soakStartedAt: 0 }), counts([20, 19]), now)).toMatchObject(expected);
  });

  it('soak resets when the gate stops holding (e.g. late joiners enlarged the wave)', () => {
    expect(ev(run({ soakStartedAt: 0 }), counts([21, 19]), SOAK)).toMatchObject({ kind: 'hold', soakStartedAt: null });
  });

  it('the last wave completes instead of advancing, and needs no approval', () => {
    const gates = { ...DEFAULT_GATES, manualApproval: true };
    expect(ev(run({ wave: 4, soakStartedAt: 0 }), counts([20, 20]), SOAK, gates)).toEqual({ kind: 'complete' });
  });

  it('manual approval between waves', () => {
    const gates = { ...DEFAULT_GATES, manualApproval: true };
    expect(ev(run({ soakStartedAt: 0 }), counts([20, 20]), SOAK, gates)).toEqual({ kind: 'approval' });
  });

  it('soak 0 advances at once', () => {
    expect(ev(run(), counts([1, 1]), 5, { ...DEFAULT_GATES, soakMs: 0 })).toEqual({ kind: 'advance' });
  });
});

describe('error gate (default > 5 % failed, once ≥ 10 finished)', () => {
  it.each([
    ['5 % exactly does not pause', [100, 5], false],
    ['just above 5 % pauses (6/100)', [100, 6], true],
    ['just above 5 % pauses (1/19 = 5.26 %)', [19, 1], true],
    ['1/20 = 5 % does not pause', [20, 1], false],
    ['9 finished, 9 failed: below the minimum', [9, 9], false],
    ['10 finished, 1 failed = 10 % pauses', [10, 1], true],
    ['10 finished, 0 failed', [10, 0], false],
  ] as const)('%s', (_n, window, pauses) => {
    const d = ev(run(), counts([100, 0], [window[0], window[1]]), 0);
    if (pauses) expect(d).toEqual({ kind: 'pause', reason: { kind: 'error-gate', finished: window[0], failed: window[1] } });
    else expect(d.kind).toBe('hold');
  });

  it('takes precedence over a passing success gate', () => {
    const d = ev(run({ soakStartedAt: 0 }), counts([20, 20], [20, 2]), SOAK);
    expect(d.kind).toBe('pause');
  });

  it('respects configured thresholds', () => {
    const gates = { ...DEFAULT_GATES, errorPercent: 0, errorMinFinished: 1 };
    expect(ev(run(), counts([5, 0], [1, 1]), 0, gates).kind).toBe('pause');
    expect(ev(run(), counts([5, 0], [1, 0]), 0, gates).kind).toBe('hold');
  });
});

describe('wave-failed: the success gate can no longer be reached', () => {
  it.each([
    ['canary 2, 1 failed: 1/2 can never reach 95 %', [2, 1, 1], true],
    ['canary 5, 1 failed: 4/5 = 80 %', [5, 0, 1], true],
    ['20, 1 failed: 19/20 = 95 % still reachable', [20, 0, 1], false],
    ['20, 2 failed: 18/20 = 90 %', [20, 10, 2], true],
    ['100, 5 failed: 95 % reachable exactly', [100, 0, 5], false],
    ['100, 6 failed: 94 %', [100, 0, 6], true],
    ['10 000, 500 failed: 95.00 %', [10_000, 0, 500], false],
    ['10 000, 501 failed: 94.99 %', [10_000, 0, 501], true],
    ['no failure, nothing verified yet', [1, 0, 0], false],
    ['empty wave', [0, 0, 0], false],
  ] as const)('%s', (_n, wave, pauses) => {
    const d = ev(run(), counts([wave[0], wave[1], wave[2]]), 0);
    if (pauses) expect(d).toEqual({ kind: 'pause', reason: { kind: 'wave-failed', wave: 1, failed: wave[2], size: wave[0] } });
    else expect(d.kind).toBe('hold');
  });

  it('follows the configured success percentage', () => {
    const gates = { ...DEFAULT_GATES, successPercent: 50 };
    expect(ev(run(), counts([2, 0, 1]), 0, gates).kind).toBe('hold');
    expect(ev(run(), counts([3, 0, 2]), 0, gates).kind).toBe('pause');
  });

  it('the error gate takes precedence (its reason names the whole rollout)', () => {
    const d = ev(run(), counts([20, 0, 10], [10, 10]), 0);
    expect(d).toMatchObject({ kind: 'pause', reason: { kind: 'error-gate' } });
  });
});

describe('telemetry gate (default > 1 % mismatch, once ≥ 10 reports)', () => {
  it.each([
    ['1 % exactly does not pause', [100, 1], false],
    ['2/100 pauses', [100, 2], true],
    ['1/99 pauses', [99, 1], true],
    ['9 reports all mismatching: below the minimum', [9, 9], false],
  ] as const)('%s', (_n, tele, pauses) => {
    const d = ev(run(), counts([100, 0], [0, 0], [tele[0], tele[1]]), 0);
    if (pauses) expect(d).toEqual({ kind: 'pause', reason: { kind: 'telemetry-gate', reports: tele[0], mismatches: tele[1] } });
    else expect(d.kind).toBe('hold');
  });
});

it('holds in any state but RUNNING', () => {
  const paused: RolloutState = { kind: 'PAUSED', wave: 0, waveCount: 2, since: 0, reason: { kind: 'operator', message: '' } };
  for (const s of [paused, { kind: 'DRAFT' } as const, { kind: 'COMPLETED', at: 0 } as const]) {
    expect(ev(s, counts([10, 10], [100, 100]), 0).kind).toBe('hold');
  }
});
