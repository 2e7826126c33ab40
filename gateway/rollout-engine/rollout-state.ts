/**
 * Rollout lifecycle (SPEC §7): DRAFT → RUNNING ⇄ PAUSED(reason) → COMPLETED | ABORTED.
 *
 * Pure and total: `transition` never throws; an event that is not legal in the current state returns
 * `{ ok: false, error: { code: 'E_TRANSITION' } }` (the API maps it to 409). States are plain JSON.
 * Every event carries `at` (ms since the epoch, from the injected clock) so the state records when it was entered.
 */

/** Why a RUNNING rollout stopped delivering (SPEC §7 "PAUSED(reason)"). */
export type PauseReason =
  | { readonly kind: 'operator'; readonly message: string }
  /** SPEC §7 error gate: failures among finished devices of the gate window exceeded the limit. */
  | { readonly kind: 'error-gate'; readonly failed: number; readonly finished: number }
  /** Telemetry gate: "mismatch" pin-validation reports from devices on the new set exceeded the limit. */
  | { readonly kind: 'telemetry-gate'; readonly mismatches: number; readonly reports: number }
  /** Manual approval between waves: wave `wave` passed its success gate and soak; an operator must advance. */
  | { readonly kind: 'approval'; readonly wave: number }
  /**
   * The wave's success gate can no longer be reached: so many of its `size` devices ended REJECTED / TIMED_OUT
   * (`failed`) that fewer than the success percentage can ever verify. Without this pause the wave would hold
   * for ever (see docs/decisions-rollout.md).
   */
  | { readonly kind: 'wave-failed'; readonly wave: number; readonly failed: number; readonly size: number };

export type AbortReason =
  | { readonly kind: 'operator'; readonly message: string }
  /** A newer pin set for the same fleet started a rollout (see docs/decisions-rollout.md). */
  | { readonly kind: 'superseded'; readonly by: string };

export type RolloutState =
  | { readonly kind: 'DRAFT' }
  | {
      readonly kind: 'RUNNING';
      /** Index of the current wave in the plan (0-based). */
      readonly wave: number;
      readonly waveCount: number;
      /** When the rollout last entered RUNNING (start, resume or advance). */
      readonly since: number;
      /** When the current wave's success gate started holding without interruption (soak start), or null. */
      readonly soakStartedAt: number | null;
    }
  | {
      readonly kind: 'PAUSED';
      readonly wave: number;
      readonly waveCount: number;
      readonly since: number;
      readonly reason: PauseReason;
    }
  | { readonly kind: 'COMPLETED'; readonly at: number }
  | { readonly kind: 'ABORTED'; readonly at: number; readonly reason: AbortReason };

export type RolloutStateKind = RolloutState['kind'];

export type RolloutEvent =
  | { readonly type: 'start'; readonly at: number; readonly waveCount: number }
  /** Operator pause. */
  | { readonly type: 'pause'; readonly at: number; readonly message: string }
  | { readonly type: 'errorGateTripped'; readonly at: number; readonly failed: number; readonly finished: number }
  | { readonly type: 'telemetryGateTripped'; readonly at: number; readonly mismatches: number; readonly reports: number }
  /** The current wave can no longer reach its success gate. */
  | { readonly type: 'waveFailed'; readonly at: number; readonly failed: number; readonly size: number }
  /** Success gate + soak held but manual approval is configured: wait for an operator. */
  | { readonly type: 'approvalRequired'; readonly at: number }
  | { readonly type: 'resume'; readonly at: number }
  /**
   * Move to the next wave; on the last wave this completes the rollout.
   * by 'gate': only from RUNNING. by 'operator': from RUNNING (skips the gate) or from PAUSED(approval).
   */
  | { readonly type: 'advance'; readonly at: number; readonly by: 'gate' | 'operator' }
  /** The success gate started holding (soak starts) / stopped holding (soak resets). */
  | { readonly type: 'soakStarted'; readonly at: number }
  | { readonly type: 'soakReset'; readonly at: number }
  /** The last wave passed its gates. Legal only on the last wave. */
  | { readonly type: 'allWavesDone'; readonly at: number }
  | { readonly type: 'abort'; readonly at: number; readonly message: string }
  | { readonly type: 'superseded'; readonly at: number; readonly by: string };

export interface TransitionError {
  readonly code: 'E_TRANSITION';
  readonly message: string;
}

export type TransitionResult =
  | { readonly ok: true; readonly state: RolloutState }
  | { readonly ok: false; readonly error: TransitionError };

const ok = (state: RolloutState): TransitionResult => ({ ok: true, state });
const illegal = (state: RolloutState, event: RolloutEvent, why?: string): TransitionResult => ({
  ok: false,
  error: {
    code: 'E_TRANSITION',
    message: `cannot ${event.type} a rollout in state ${state.kind}${why === undefined ? '' : `: ${why}`}`,
  },
});

/** True for COMPLETED and ABORTED: nothing moves a rollout out of them (SPEC §7). */
export function isFinalRolloutState(state: RolloutState): boolean {
  return state.kind === 'COMPLETED' || state.kind === 'ABORTED';
}

function running(wave: number, waveCount: number, at: number): RolloutState {
  return { kind: 'RUNNING', wave, waveCount, since: at, soakStartedAt: null };
}

function nextWave(wave: number, waveCount: number, at: number): RolloutState {
  return wave + 1 >= waveCount ? { kind: 'COMPLETED', at } : running(wave + 1, waveCount, at);
}

/** The pure transition function of SPEC §7. Never throws. */
export function transition(state: RolloutState, event: RolloutEvent): TransitionResult {
  switch (event.type) {
    case 'start':
      if (state.kind !== 'DRAFT') return illegal(state, event);
      if (!Number.isInteger(event.waveCount) || event.waveCount < 1) {
        return illegal(state, event, 'a plan needs at least one wave');
      }
      return ok(running(0, event.waveCount, event.at));

    case 'pause':
      if (state.kind !== 'RUNNING') return illegal(state, event);
      return ok(pause(state, event.at, { kind: 'operator', message: event.message }));

    case 'errorGateTripped':
      if (state.kind !== 'RUNNING') return illegal(state, event);
      return ok(pause(state, event.at, { kind: 'error-gate', failed: event.failed, finished: event.finished }));

    case 'telemetryGateTripped':
      if (state.kind !== 'RUNNING') return illegal(state, event);
      return ok(
        pause(state, event.at, { kind: 'telemetry-gate', mismatches: event.mismatches, reports: event.reports }),
      );

    case 'waveFailed':
      if (state.kind !== 'RUNNING') return illegal(state, event);
      return ok(pause(state, event.at, { kind: 'wave-failed', wave: state.wave, failed: event.failed, size: event.size }));

    case 'approvalRequired':
      if (state.kind !== 'RUNNING') return illegal(state, event);
      if (state.wave + 1 >= state.waveCount) return illegal(state, event, 'the last wave needs no approval');
      return ok(pause(state, event.at, { kind: 'approval', wave: state.wave }));

    case 'resume':
      if (state.kind !== 'PAUSED') return illegal(state, event);
      // Resuming an approval pause is the approval: the next wave starts (docs/decisions-rollout.md).
      if (state.reason.kind === 'approval') return ok(nextWave(state.wave, state.waveCount, event.at));
      // Soak restarts from zero after any pause: the operator looked at something, so watch again.
      return ok(running(state.wave, state.waveCount, event.at));

    case 'advance':
      if (state.kind === 'RUNNING') return ok(nextWave(state.wave, state.waveCount, event.at));
      // An approval pause is approved by advancing; a failed wave is accepted as it is by advancing past it.
      if (state.kind === 'PAUSED' && event.by === 'operator' && (state.reason.kind === 'approval' || state.reason.kind === 'wave-failed')) {
        return ok(nextWave(state.wave, state.waveCount, event.at));
      }
      if (state.kind === 'PAUSED' && event.by === 'operator') {
        return illegal(state, event, `paused by ${state.reason.kind}; resume first`);
      }
      return illegal(state, event);

    case 'soakStarted':
      if (state.kind !== 'RUNNING') return illegal(state, event);
      if (state.soakStartedAt !== null) return ok(state); // idempotent
      return ok({ ...state, soakStartedAt: event.at });

    case 'soakReset':
      if (state.kind !== 'RUNNING') return illegal(state, event);
      if (state.soakStartedAt === null) return ok(state);
      return ok({ ...state, soakStartedAt: null });

    case 'allWavesDone':
      if (state.kind !== 'RUNNING') return illegal(state, event);
      if (state.wave + 1 < state.waveCount) {
        return illegal(state, event, `wave ${state.wave + 1} of ${state.waveCount} is not the last`);
      }
      return ok({ kind: 'COMPLETED', at: event.at });

    case 'abort':
      if (isFinalRolloutState(state)) return illegal(state, event);
      return ok({ kind: 'ABORTED', at: event.at, reason: { kind: 'operator', message: event.message } });

    case 'superseded':
      // A finished rollout stays what it was (its record is history); anything else ends as ABORTED(superseded),
      // a DRAFT included: starting it later would only send devices an older seq (E_ROLLBACK).
      if (isFinalRolloutState(state)) return ok(state);
      return ok({ kind: 'ABORTED', at: event.at, reason: { kind: 'superseded', by: event.by } });
  }
}

function pause(state: Extract<RolloutState, { kind: 'RUNNING' }>, at: number, reason: PauseReason): RolloutState {
  return { kind: 'PAUSED', wave: state.wave, waveCount: state.waveCount, since: at, reason };
}
