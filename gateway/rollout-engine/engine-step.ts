/**
 * The rollout engine's tick (SPEC §7), pure: `step(snapshot, input)` → new snapshot + changed execution rows +
 * I/O commands. A thin driver in the gateway runs it on a timer with an injected clock, and calls `onHello` /
 * `onAck` when a device speaks. The driver must serialise calls per rollout (one at a time, each in one DB
 * transaction) and publish `commands` only after the transaction commits.
 */
import { isActiveExecution, nextDeadline } from './execution-state.js';
import { evaluateGates, type GateCounts, type GateDecision } from './gates.js';
import { matchesSelector, type DeviceInfo } from './plan.js';
import { compareByRank } from './stable-hash.js';
import { countForGates, type ExecutionRecord, type RolloutSnapshot } from './snapshot.js';
import { available, refill, take } from './token-bucket.js';
import { waveMayStart } from './schedule.js';
import {
  beginWork,
  bumpEnrolled,
  currentWave,
  eligible,
  enroll,
  execEvent,
  finishWork,
  rolloutEvent,
  type StepResult,
  type Work,
} from './engine-work.js';

export interface StepInput {
  readonly now: number;
  /** All execution rows of this rollout (of devices still in the fleet). */
  readonly executions: readonly ExecutionRecord[];
  /** The rollout's fleet, decommissioned devices excluded, with their online state. */
  readonly devices: readonly DeviceInfo[];
  /** Reports in the gate window from devices on this rollout's seq; zero when omitted. */
  readonly telemetry?: GateCounts['telemetry'];
}

export interface TickResult extends StepResult {
  /** What the gates decided this tick (null when not RUNNING at evaluation time): for the dashboard. */
  readonly gate: GateDecision | null;
  /**
   * Earliest time a tick can change something by itself (timeout, backoff end, soak end, a token for a waiting
   * online device); null = only an outside event (ack, hello, command, new device) can. The driver may tick
   * sooner (e.g. every second) — a tick with nothing to do changes nothing but the bucket's refill time.
   */
  readonly nextWakeAt: number | null;
}

/** True when the rollout may send envelopes: RUNNING, or COMPLETED (stragglers still get the set). */
function delivering(w: Work): boolean {
  const k = w.rollout.state.kind;
  return k === 'RUNNING' || k === 'COMPLETED';
}

/** Late joiners (SPEC §7): while the last wave runs, new eligible devices join it; before, a later wave takes them. */
function enrollLateJoiners(w: Work, devices: readonly DeviceInfo[], now: number): void {
  const s = w.rollout.state;
  if ((s.kind !== 'RUNNING' && s.kind !== 'PAUSED') || s.wave + 1 < s.waveCount) return;
  // a late joiner joins the last wave only if that wave's selector takes it: a plan whose last wave selects
  // some devices never delivers to the others (issue 17; plan.ts warns about such a plan when it is created)
  const last = w.rollout.plan.waves[s.wave];
  let n = 0;
  for (const d of eligible(w, devices)) {
    if (w.execs.has(d.deviceId) || !matchesSelector(d, last?.selector)) continue;
    enroll(w, d.deviceId, s.wave, now);
    w.notes.push({ type: 'enrolled', at: now, deviceId: d.deviceId, wave: s.wave });
    n += 1;
  }
  if (n > 0) bumpEnrolled(w, s.wave, n);
}

/** Send to QUEUED, due, online devices of started waves, as many as the token bucket allows. */
function deliverDue(w: Work, online: ReadonlySet<string>, now: number): void {
  let bucket = refill(w.rollout.bucket, w.rollout.config.rate, now);
  if (delivering(w)) {
    const maxWave = w.rollout.state.kind === 'COMPLETED' ? Number.POSITIVE_INFINITY : (currentWave(w) ?? -1);
    const due = [...w.execs.values()].filter(
      (e) => e.state.kind === 'QUEUED' && e.state.nextAttemptAt <= now && e.wave <= maxWave && online.has(e.deviceId),
    );
    const byRank = compareByRank(w.rollout.id);
    due.sort((a, b) => {
      const ta = a.state.kind === 'QUEUED' ? a.state.nextAttemptAt : 0;
      const tb = b.state.kind === 'QUEUED' ? b.state.nextAttemptAt : 0;
      return a.wave - b.wave || ta - tb || byRank(a.deviceId, b.deviceId);
    });
    const n = Math.min(due.length, available(bucket));
    for (const e of due.slice(0, n)) {
      const next = execEvent(w, e, { type: 'delivered', at: now }, now);
      w.commands.push({ type: 'deliver', deviceId: e.deviceId, attempt: next.state.attempts });
    }
    bucket = take(bucket, n);
  }
  w.rollout = { ...w.rollout, bucket };
}

function applyDecision(w: Work, d: GateDecision, devices: readonly DeviceInfo[], now: number): void {
  switch (d.kind) {
    case 'hold': {
      const s = w.rollout.state;
      if (s.kind !== 'RUNNING' || s.soakStartedAt === d.soakStartedAt) return;
      rolloutEvent(w, d.soakStartedAt === null ? { type: 'soakReset', at: now } : { type: 'soakStarted', at: d.soakStartedAt }, devices);
      return;
    }
    case 'pause': {
      const r = d.reason;
      if (r.kind === 'telemetry-gate') {
        rolloutEvent(w, { type: 'telemetryGateTripped', at: now, mismatches: r.mismatches, reports: r.reports }, devices);
      } else if (r.kind === 'error-gate') {
        rolloutEvent(w, { type: 'errorGateTripped', at: now, failed: r.failed, finished: r.finished }, devices);
      } else if (r.kind === 'wave-failed') {
        rolloutEvent(w, { type: 'waveFailed', at: now, failed: r.failed, size: r.size }, devices);
      }
      return;
    }
    case 'approval':
      rolloutEvent(w, { type: 'approvalRequired', at: now }, devices);
      return;
    case 'advance':
      rolloutEvent(w, { type: 'advance', at: now, by: 'gate' }, devices);
      return;
    case 'complete':
      rolloutEvent(w, { type: 'allWavesDone', at: now }, devices);
      return;
  }
}

function computeNextWake(w: Work, gate: GateDecision | null, online: ReadonlySet<string>, now: number): number | null {
  let next: number | null = null;
  const consider = (t: number | null): void => {
    if (t !== null && (next === null || t < next)) next = t;
  };
  const k = w.rollout.state.kind;
  if (k === 'ABORTED' || k === 'DRAFT') return null;
  let waitingForToken = false;
  for (const e of w.execs.values()) {
    if (e.state.kind === 'QUEUED') {
      // Due but not sent: offline (a hello wakes us) or out of tokens (wake when one refills).
      if (e.state.nextAttemptAt > now) consider(e.state.nextAttemptAt);
      else if (online.has(e.deviceId)) waitingForToken = true;
    } else if (isActiveExecution(e.state)) {
      consider(nextDeadline(e.state, w.rollout.config.delivery));
    }
  }
  if (waitingForToken && delivering(w)) {
    const { bucket, config } = w.rollout;
    consider(bucket.updatedAt + Math.ceil(((1 - Math.min(1, bucket.tokens)) * 1000) / config.rate.perSecond));
  }
  if (gate?.kind === 'hold' && gate.soakStartedAt !== null) consider(gate.soakStartedAt + w.rollout.config.gates.soakMs);
  return next;
}

/**
 * One tick: timeouts → late joiners → gates (may pause, ask approval, advance and enrol the next wave, or
 * complete) → rate-limited deliveries. DRAFT and ABORTED rollouts do nothing.
 */
export function step(rollout: RolloutSnapshot, input: StepInput): TickResult {
  const { now, devices } = input;
  const w = beginWork(rollout, input.executions);
  const kind = rollout.state.kind;
  if (kind === 'DRAFT' || kind === 'ABORTED') return { ...finishWork(w), gate: null, nextWakeAt: null };

  for (const e of [...w.execs.values()]) {
    if (isActiveExecution(e.state)) execEvent(w, e, { type: 'check', now }, now);
  }
  enrollLateJoiners(w, devices, now);

  let gate: GateDecision | null = null;
  if (w.rollout.state.kind === 'RUNNING') {
    const counts = countForGates(w.rollout, [...w.execs.values()], input.telemetry);
    gate = evaluateGates(w.rollout, counts, now);
    if (gate.kind === 'advance') {
      // The next wave starts only inside a maintenance window: the soak is done, the wave waits (hold).
      const may = waveMayStart(w.rollout.config.schedule, now);
      const s = w.rollout.state;
      if (!may.ok && s.kind === 'RUNNING') gate = { kind: 'hold', soakStartedAt: s.soakStartedAt, why: `next wave waits: ${may.why}` };
    }
    applyDecision(w, gate, devices, now);
  }

  const online = new Set(devices.filter((d) => d.online).map((d) => d.deviceId));
  deliverDue(w, online, now);
  return { ...finishWork(w), gate, nextWakeAt: computeNextWake(w, gate, online, now) };
}

/**
 * A device said hello (SPEC §6, on every connect). Offline devices stay QUEUED and are served on reconnect
 * (SPEC §7): its backoff is cleared and, if the rollout delivers and a token is free, it is sent at once;
 * otherwise the next `step` sends it. A new device is enrolled when the last wave is running.
 */
export function onHello(
  rollout: RolloutSnapshot,
  execution: ExecutionRecord | undefined,
  device: DeviceInfo,
  now: number,
): StepResult {
  const w = beginWork(rollout, execution === undefined ? [] : [execution]);
  const kind = rollout.state.kind;
  if (kind === 'DRAFT' || kind === 'ABORTED') return finishWork(w);
  const online: DeviceInfo = { ...device, online: true };
  let rec = w.execs.get(device.deviceId);
  if (rec === undefined) {
    enrollLateJoiners(w, [online], now);
  } else if (isActiveExecution(rec.state)) {
    rec = execEvent(w, rec, { type: 'check', now }, now);
    execEvent(w, rec, { type: 'reconnected', at: now }, now);
  }
  deliverDue(w, new Set([device.deviceId]), now);
  return finishWork(w);
}

/** A device ack (SPEC §6) for this rollout's seq. Acks for another seq are ignored (no change). */
export function onAck(
  rollout: RolloutSnapshot,
  execution: ExecutionRecord,
  ack: { readonly seq: number; readonly status: 'applied' | 'verified' | 'rejected'; readonly code?: string },
  now: number,
): StepResult {
  const w = beginWork(rollout, [execution]);
  if (ack.seq !== rollout.seq || execution.rolloutId !== rollout.id) return finishWork(w);
  const event =
    ack.status === 'rejected'
      ? ({ type: 'rejected', at: now, code: ack.code ?? 'E_UNKNOWN' } as const)
      : ({ type: ack.status, at: now } as const);
  execEvent(w, execution, event, now);
  return finishWork(w);
}
