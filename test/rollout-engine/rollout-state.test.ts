import { describe, expect, it } from 'vitest';
import { transition, type RolloutEvent, type RolloutState } from '../../gateway/rollout-engine/index.js';

const at = 1000;
const DRAFT: RolloutState = { kind: 'DRAFT' };
const RUN0: RolloutState = { kind: 'RUNNING', wave: 0, waveCount: 3, since: 0, soakStartedAt: null };
const RUN_LAST: RolloutState = { kind: 'RUNNING', wave: 2, waveCount: 3, since: 0, soakStartedAt: 500 };
const P_OP: RolloutState = { kind: 'PAUSED', wave: 1, waveCount: 3, since: 0, reason: { kind: 'operator', message: 'x' } };
const P_ERR: RolloutState = { kind: 'PAUSED', wave: 1, waveCount: 3, since: 0, reason: { kind: 'error-gate', failed: 2, finished: 10 } };
const P_APP: RolloutState = { kind: 'PAUSED', wave: 1, waveCount: 3, since: 0, reason: { kind: 'approval', wave: 1 } };
const P_APP_2: RolloutState = { kind: 'PAUSED', wave: 1, waveCount: 2, since: 0, reason: { kind: 'approval', wave: 1 } };
const P_WAVE: RolloutState = { kind: 'PAUSED', wave: 1, waveCount: 3, since: 0, reason: { kind: 'wave-failed', wave: 1, failed: 1, size: 2 } };
const DONE: RolloutState = { kind: 'COMPLETED', at: 0 };
const ABORTED: RolloutState = { kind: 'ABORTED', at: 0, reason: { kind: 'operator', message: '' } };

const ev = {
  start: { type: 'start', at, waveCount: 3 },
  start0: { type: 'start', at, waveCount: 0 },
  pause: { type: 'pause', at, message: 'look' },
  errorGate: { type: 'errorGateTripped', at, failed: 1, finished: 10 },
  telemetry: { type: 'telemetryGateTripped', at, mismatches: 2, reports: 20 },
  approval: { type: 'approvalRequired', at },
  waveFailed: { type: 'waveFailed', at, failed: 1, size: 2 },
  resume: { type: 'resume', at },
  advGate: { type: 'advance', at, by: 'gate' },
  advOp: { type: 'advance', at, by: 'operator' },
  soak: { type: 'soakStarted', at },
  soakReset: { type: 'soakReset', at },
  allDone: { type: 'allWavesDone', at },
  abort: { type: 'abort', at, message: 'no' },
  superseded: { type: 'superseded', at, by: 'r2' },
} satisfies Record<string, RolloutEvent>;

type Row = [string, RolloutState, RolloutEvent, RolloutState | 'E_TRANSITION'];

const rows: Row[] = [
  ['start from DRAFT', DRAFT, ev.start, { kind: 'RUNNING', wave: 0, waveCount: 3, since: at, soakStartedAt: null }],
  ['start with no waves', DRAFT, ev.start0, 'E_TRANSITION'],
  ['start twice', RUN0, ev.start, 'E_TRANSITION'],
  ['start a completed rollout', DONE, ev.start, 'E_TRANSITION'],
  ['pause RUNNING', RUN0, ev.pause, { kind: 'PAUSED', wave: 0, waveCount: 3, since: at, reason: { kind: 'operator', message: 'look' } }],
  ['pause PAUSED', P_OP, ev.pause, 'E_TRANSITION'],
  ['pause DRAFT', DRAFT, ev.pause, 'E_TRANSITION'],
  ['error gate', RUN0, ev.errorGate, { kind: 'PAUSED', wave: 0, waveCount: 3, since: at, reason: { kind: 'error-gate', failed: 1, finished: 10 } }],
  ['error gate while paused', P_OP, ev.errorGate, 'E_TRANSITION'],
  ['telemetry gate', RUN0, ev.telemetry, { kind: 'PAUSED', wave: 0, waveCount: 3, since: at, reason: { kind: 'telemetry-gate', mismatches: 2, reports: 20 } }],
  ['wave failed', RUN0, ev.waveFailed, { kind: 'PAUSED', wave: 0, waveCount: 3, since: at, reason: { kind: 'wave-failed', wave: 0, failed: 1, size: 2 } }],
  ['wave failed while paused', P_OP, ev.waveFailed, 'E_TRANSITION'],
  ['resume a failed wave (same wave again)', P_WAVE, ev.resume, { kind: 'RUNNING', wave: 1, waveCount: 3, since: at, soakStartedAt: null }],
  ['operator advances past a failed wave', P_WAVE, ev.advOp, { kind: 'RUNNING', wave: 2, waveCount: 3, since: at, soakStartedAt: null }],
  ['gate cannot advance past a failed wave', P_WAVE, ev.advGate, 'E_TRANSITION'],
  ['approval on wave 0', RUN0, ev.approval, { kind: 'PAUSED', wave: 0, waveCount: 3, since: at, reason: { kind: 'approval', wave: 0 } }],
  ['approval on the last wave', RUN_LAST, ev.approval, 'E_TRANSITION'],
  ['resume operator pause', P_OP, ev.resume, { kind: 'RUNNING', wave: 1, waveCount: 3, since: at, soakStartedAt: null }],
  ['resume error pause', P_ERR, ev.resume, { kind: 'RUNNING', wave: 1, waveCount: 3, since: at, soakStartedAt: null }],
  ['resume approval = approve', P_APP, ev.resume, { kind: 'RUNNING', wave: 2, waveCount: 3, since: at, soakStartedAt: null }],
  ['resume approval before last', P_APP_2, ev.resume, { kind: 'COMPLETED', at }],
  ['resume RUNNING', RUN0, ev.resume, 'E_TRANSITION'],
  ['resume ABORTED', ABORTED, ev.resume, 'E_TRANSITION'],
  ['advance by gate', RUN0, ev.advGate, { kind: 'RUNNING', wave: 1, waveCount: 3, since: at, soakStartedAt: null }],
  ['advance by operator', RUN0, ev.advOp, { kind: 'RUNNING', wave: 1, waveCount: 3, since: at, soakStartedAt: null }],
  ['advance the last wave completes', RUN_LAST, ev.advGate, { kind: 'COMPLETED', at }],
  ['operator approves', P_APP, ev.advOp, { kind: 'RUNNING', wave: 2, waveCount: 3, since: at, soakStartedAt: null }],
  ['gate cannot approve', P_APP, ev.advGate, 'E_TRANSITION'],
  ['operator cannot skip an error pause', P_ERR, ev.advOp, 'E_TRANSITION'],
  ['operator cannot skip an operator pause', P_OP, ev.advOp, 'E_TRANSITION'],
  ['advance DRAFT', DRAFT, ev.advOp, 'E_TRANSITION'],
  ['advance COMPLETED', DONE, ev.advOp, 'E_TRANSITION'],
  ['soak starts', RUN0, ev.soak, { ...RUN0, soakStartedAt: at }],
  ['soak start is idempotent', RUN_LAST, ev.soak, RUN_LAST],
  ['soak reset', RUN_LAST, ev.soakReset, { ...RUN_LAST, soakStartedAt: null }],
  ['soak while paused', P_OP, ev.soak, 'E_TRANSITION'],
  ['all waves done on last', RUN_LAST, ev.allDone, { kind: 'COMPLETED', at }],
  ['all waves done early', RUN0, ev.allDone, 'E_TRANSITION'],
  ['abort DRAFT', DRAFT, ev.abort, { kind: 'ABORTED', at, reason: { kind: 'operator', message: 'no' } }],
  ['abort RUNNING', RUN0, ev.abort, { kind: 'ABORTED', at, reason: { kind: 'operator', message: 'no' } }],
  ['abort PAUSED', P_ERR, ev.abort, { kind: 'ABORTED', at, reason: { kind: 'operator', message: 'no' } }],
  ['abort COMPLETED', DONE, ev.abort, 'E_TRANSITION'],
  ['abort ABORTED', ABORTED, ev.abort, 'E_TRANSITION'],
  ['superseded RUNNING', RUN0, ev.superseded, { kind: 'ABORTED', at, reason: { kind: 'superseded', by: 'r2' } }],
  ['superseded DRAFT', DRAFT, ev.superseded, { kind: 'ABORTED', at, reason: { kind: 'superseded', by: 'r2' } }],
  ['superseded PAUSED', P_APP, ev.superseded, { kind: 'ABORTED', at, reason: { kind: 'superseded', by: 'r2' } }],
  ['superseded COMPLETED stays', DONE, ev.superseded, DONE],
  ['superseded ABORTED stays', ABORTED, ev.superseded, ABORTED],
];

describe('rollout transition (SPEC §7)', () => {
  it.each(rows)('%s', (_name, from, event, expected) => {
    const r = transition(from, event);
    if (expected === 'E_TRANSITION') {
      expect(r.ok).toBe(false);
      if (!r.ok) {
        expect(r.error.code).toBe('E_TRANSITION');
        expect(r.error.message).toContain(from.kind);
      }
    } else {
      expect(r).toEqual({ ok: true, state: expected });
    }
  });

  it('never throws and never mutates its input, for every state × event', () => {
    const states = [DRAFT, RUN0, RUN_LAST, P_OP, P_ERR, P_APP, DONE, ABORTED];
    for (const s of states) {
      const copy = JSON.parse(JSON.stringify(s)) as RolloutState;
      for (const e of Object.values(ev)) {
        expect(() => transition(s, e)).not.toThrow();
        expect(s).toEqual(copy);
      }
    }
  });

  it('final states accept nothing but a no-op supersede', () => {
    for (const s of [DONE, ABORTED]) {
      for (const e of Object.values(ev)) {
        const r = transition(s, e);
        if (e.type === 'superseded') expect(r).toEqual({ ok: true, state: s });
        else expect(r.ok).toBe(false);
      }
    }
  });
});
