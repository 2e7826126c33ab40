import { describe, expect, it } from 'vitest';
import { transition, type UpdateEvent, type UpdateState } from '../../device-sim/device-state';

function run(events: UpdateEvent[], from: UpdateState = { kind: 'idle' }): UpdateState {
  let s = from;
  let t = 1000;
  for (const e of events) {
    const r = transition(s, e, t++);
    if (!r.ok) throw new Error(r.error);
    s = r.state;
  }
  return s;
}

describe('device update state machine', () => {
  it('runs idle → received → checking → persisting → applied → verifying → verified with clock times', () => {
    const s = run([
      { type: 'receive', sha256: 'aa' }, { type: 'check' }, { type: 'accept', seq: 2, idempotent: false },
      { type: 'persisted' }, { type: 'verify', seq: 2, sha256: 'aa' }, { type: 'verified' },
    ]);
    expect(s).toEqual({ kind: 'verified', sha256: 'aa', seq: 2, at: 1005 });
  });

  it('ends in rejected(code) from checking or persisting (E_STORAGE)', () => {
    expect(run([{ type: 'receive', sha256: 'bb' }, { type: 'check' }, { type: 'reject', code: 'E_SIG' }]))
      .toMatchObject({ kind: 'rejected', code: 'E_SIG' });
    expect(run([{ type: 'receive', sha256: 'bb' }, { type: 'check' }, { type: 'accept', seq: 3, idempotent: false }, { type: 'reject', code: 'E_STORAGE' }]))
      .toMatchObject({ kind: 'rejected', code: 'E_STORAGE' });
  });

  it('an idempotent accept never persists', () => {
    expect(run([{ type: 'receive', sha256: 'cc' }, { type: 'check' }, { type: 'accept', seq: 3, idempotent: true }]).kind).toBe('duplicate');
  });

  it('refuses events out of order, and a new delivery while one is being checked', () => {
    expect(transition({ kind: 'idle' }, { type: 'persisted' }, 0).ok).toBe(false);
    expect(transition({ kind: 'checking', sha256: 'a', at: 0 }, { type: 'receive', sha256: 'b' }, 0).ok).toBe(false);
    expect(transition({ kind: 'persisting', sha256: 'a', seq: 1, at: 0 }, { type: 'verify', seq: 1, sha256: 'a' }, 0).ok).toBe(false);
    // a newer set supersedes a verification in progress
    expect(transition({ kind: 'verifying', sha256: 'a', seq: 1, at: 0 }, { type: 'receive', sha256: 'b' }, 5)).toEqual({
      ok: true, state: { kind: 'received', sha256: 'b', at: 5 },
    });
  });
});
