/**
 * Leader election as a pure state machine (docs/scale.md "Replicas"): which replica drives rollouts and the other
 * single-writer jobs. The I/O (the registry's LeaderLock, timers) is in leader-elector.ts; time comes in with each
 * input, so the rules are tested on fake time.
 */
export type LeaderState =
  | { kind: 'follower'; since: number; lastError: string | null }
  | { kind: 'leader'; epoch: number; since: number; /** last time the lock was confirmed held */ confirmedAt: number }
  | { kind: 'stopped' };

export type LeaderInput =
  /** An attempt got the lock; the registry incremented the epoch. */
  | { type: 'acquired'; epoch: number; at: number }
  /** An attempt found the lock held by another process. */
  | { type: 'busy'; at: number }
  /** A poll confirmed the lock is still held. */
  | { type: 'confirmed'; at: number }
  /** The lock is gone: its session failed or closed, a poll said so, or a fenced write was refused (E_NOT_LEADER). */
  | { type: 'lost'; reason: string; at: number }
  /** An attempt or a poll failed (database unreachable): a leader cannot know it still leads. */
  | { type: 'failed'; error: string; at: number }
  /** A timer fired: a leader that has not confirmed its lock for stallMs steps down by itself. */
  | { type: 'tick'; at: number }
  | { type: 'stop' };

/** What the elector must do after a transition: start the leader's jobs, or stop them at once. */
export type LeaderEffect = 'lead' | 'step-down' | null;

export interface LeaderTransition {
  state: LeaderState;
  effect: LeaderEffect;
  /** Why it stepped down (logged), when effect is 'step-down'. */
  reason?: string;
}

export interface LeaderTiming {
  /** How often a follower tries the lock and a leader confirms it (~1 s). */
  pollMs: number;
  /**
   * A leader unconfirmed this long steps down by itself. The same bound the database applies to a quiet lock session
   * (idle_session_timeout): after a freeze this long another replica may already lead, so the ex-leader stops its
   * jobs before its first write instead of waiting for the fence to refuse it.
   */
  stallMs: number;
}

export const initialLeaderState = (at: number): LeaderState => ({ kind: 'follower', since: at, lastError: null });

export function transition(s: LeaderState, input: LeaderInput, timing: LeaderTiming): LeaderTransition {
  if (s.kind === 'stopped') return { state: s, effect: null };
  if (input.type === 'stop') return { state: { kind: 'stopped' }, effect: s.kind === 'leader' ? 'step-down' : null, reason: 'stopping' };
  if (s.kind === 'follower') {
    switch (input.type) {
      case 'acquired':
        return { state: { kind: 'leader', epoch: input.epoch, since: input.at, confirmedAt: input.at }, effect: 'lead' };
      case 'busy':
        return { state: s.lastError === null ? s : { ...s, lastError: null }, effect: null };
      case 'failed':
        return { state: { ...s, lastError: input.error }, effect: null };
      default:
        return { state: s, effect: null }; // confirmed / lost / tick of a follower: nothing to do
    }
  }
  // leader
  const stepDown = (reason: string, at: number): LeaderTransition => ({ state: { kind: 'follower', since: at, lastError: reason }, effect: 'step-down', reason });
  switch (input.type) {
    case 'confirmed':
      if (input.at - s.confirmedAt > timing.stallMs) return stepDown(`lock unconfirmed for ${Math.round(input.at - s.confirmedAt)} ms (frozen?)`, input.at);
      return { state: { ...s, confirmedAt: input.at }, effect: null };
    case 'lost':
      return stepDown(input.reason, input.at);
    case 'failed':
      return stepDown(`cannot confirm the lock: ${input.error}`, input.at);
    case 'tick':
      if (input.at - s.confirmedAt > timing.stallMs) return stepDown(`lock unconfirmed for ${Math.round(input.at - s.confirmedAt)} ms (frozen?)`, input.at);
      return { state: s, effect: null };
    case 'acquired':
      // a second acquisition cannot happen while held; take the newer epoch rather than keep a stale fence
      return { state: { ...s, epoch: input.epoch, confirmedAt: input.at }, effect: null };
    case 'busy':
      return stepDown('another process holds the lock', input.at);
  }
}

/** When the elector should next poll: a leader every pollMs (well inside stallMs), a follower every pollMs. */
export function nextPollAt(s: LeaderState, now: number, timing: LeaderTiming): number | null {
  if (s.kind === 'stopped') return null;
  return now + Math.min(timing.pollMs, Math.max(1, Math.floor(timing.stallMs / 3)));
}
