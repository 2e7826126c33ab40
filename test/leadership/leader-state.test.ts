/** Leader election's pure rules on fake time (gateway/leadership/leader-state.ts). */
import { describe, expect, it } from 'vitest';
import { initialLeaderState, nextPollAt, transition, type LeaderInput, type LeaderState } from '../../gateway/leadership/leader-state';

const timing = { pollMs: 1000, stallMs: 5000 };
const run = (inputs: LeaderInput[], from: LeaderState = initialLeaderState(0)) => {
  let s = from;
  const effects: (string | null)[] = [];
  for (const i of inputs) {
    const t = transition(s, i, timing);
    s = t.state;
    effects.push(t.effect);
  }
  return { s, effects };
};

describe('leader state', () => {
  it('a follower that acquires leads with the epoch the registry gave it; busy attempts change nothing', () => {
    const { s, effects } = run([{ type: 'busy', at: 1000 }, { type: 'busy', at: 2000 }, { type: 'acquired', epoch: 7, at: 3000 }]);
    expect(effects).toEqual([null, null, 'lead']);
    expect(s).toEqual({ kind: 'leader', epoch: 7, since: 3000, confirmedAt: 3000 });
  });

  it('a leader steps down at once when the lock is lost (session closed, fenced write refused) or cannot be confirmed', () => {
    const leader: LeaderState = { kind: 'leader', epoch: 3, since: 0, confirmedAt: 0 };
    for (const input of [
      { type: 'lost', reason: 'leader lock session closed', at: 100 },
      { type: 'failed', error: 'ECONNREFUSED', at: 100 },
      { type: 'busy', at: 100 },
    ] as LeaderInput[]) {
      const t = transition(leader, input, timing);
      expect(t.effect).toBe('step-down');
      expect(t.state.kind).toBe('follower');
      expect(t.reason).toBeTruthy();
    }
  });

  it('confirmations keep a leader leading; unconfirmed for more than stallMs (a freeze) it steps down before any query', () => {
    const { s, effects } = run([
      { type: 'acquired', epoch: 1, at: 0 },
      { type: 'tick', at: 1000 },
      { type: 'confirmed', at: 1000 },
      { type: 'tick', at: 6000 }, // 5000 after the last confirmation: still inside
      { type: 'confirmed', at: 6000 },
      { type: 'tick', at: 11_001 }, // SIGSTOP for 5 s: the database may have freed the lock already
    ]);
    expect(effects).toEqual(['lead', null, null, null, null, 'step-down']);
    expect(s.kind).toBe('follower');
    // a confirmation that comes back later than stallMs counts as a freeze too
    const late = transition({ kind: 'leader', epoch: 1, since: 0, confirmedAt: 0 }, { type: 'confirmed', at: 5001 }, timing);
    expect(late.effect).toBe('step-down');
  });

  it('a stepped-down replica tries again and may lead with a newer epoch; stop ends everything', () => {
    const { s, effects } = run([
      { type: 'acquired', epoch: 1, at: 0 },
      { type: 'lost', reason: 'x', at: 10 },
      { type: 'busy', at: 1000 },
      { type: 'acquired', epoch: 4, at: 2000 },
      { type: 'stop' },
      { type: 'acquired', epoch: 5, at: 3000 },
    ]);
    expect(effects).toEqual(['lead', 'step-down', null, 'lead', 'step-down', null]);
    expect(s).toEqual({ kind: 'stopped' });
    expect(nextPollAt(s, 0, timing)).toBeNull();
  });

  it('polls every pollMs, and always well inside stallMs', () => {
    expect(nextPollAt(initialLeaderState(0), 500, timing)).toBe(1500);
    expect(nextPollAt({ kind: 'leader', epoch: 1, since: 0, confirmedAt: 0 }, 500, { pollMs: 1000, stallMs: 900 })).toBe(800);
  });
});
