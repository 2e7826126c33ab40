/**
 * A rollout answer, parsed with the API contract (gateway/api-contract `rollouts.rollout`), as the pages show it:
 * reasons, limits and selectors in words, per-wave counts, the gate's own words. Typed end to end: no field is
 * guessed at (issue 15; this replaces normalize-rollout.ts).
 */
import type { z } from 'zod';
import type { rollouts } from '../../api-contract/index';
import type { EtaView, Rollout, RolloutStateView, WaveView } from './api-types';

type ApiRollout = z.infer<typeof rollouts.rollout>;
type PauseReason = z.infer<typeof rollouts.pauseReason>;
type AbortReason = z.infer<typeof rollouts.abortReason>;
type WaveLimit = z.infer<typeof rollouts.waveLimit>;
type Selector = z.infer<typeof rollouts.selector>;

/** A pause or abort reason in words an operator understands (read after "Paused " or "Ended: "). */
export function describeReason(r: PauseReason | AbortReason): string {
  switch (r.kind) {
    case 'operator':
      return r.message !== '' ? `by an operator: ${r.message}` : 'by an operator';
    case 'error-gate':
      return `by the error gate: at the pause, ${r.failed} of ${r.finished} finished devices had failed.`;
    case 'telemetry-gate':
      return `by the telemetry gate: at the pause, ${r.mismatches} of ${r.reports} pin reports were mismatches.`;
    case 'approval':
      return `for approval: wave ${r.wave + 1} passed its gates.`;
    case 'wave-failed':
      return `because wave ${r.wave + 1} can no longer pass its success gate: ${r.failed} of ${r.size} devices failed.`;
    case 'superseded':
      return `superseded by rollout ${r.by}`;
  }
}

export function describeLimit(l: WaveLimit): string {
  if ('count' in l) return `${l.count} device${l.count === 1 ? '' : 's'}`;
  const bounds = [...(l.min !== undefined ? [`min ${l.min}`] : []), ...(l.max !== undefined ? [`max ${l.max}`] : [])];
  return `${l.percent} %${bounds.length > 0 ? ` (${bounds.join(', ')})` : ''}`;
}

function describeSelector(s: Selector | null | undefined): string | null {
  if (s === null || s === undefined) return null;
  const parts: string[] = [];
  if (s.deviceClasses?.length) parts.push(`class ∈ {${s.deviceClasses.join(', ')}}`);
  if (s.labels?.length) parts.push(`label ∈ {${s.labels.join(', ')}}`);
  if (s.deviceIds?.length) parts.push(`device ∈ {${s.deviceIds.join(', ')}}`);
  return parts.length > 0 ? parts.join(' · ') : null;
}

function state(r: ApiRollout): RolloutStateView {
  const s = r.state;
  switch (s.kind) {
    case 'DRAFT':
      return { kind: s.kind, wave: null, waveCount: r.plan.waves.length, since: null, soakStartedAt: null, reason: null, reasonKind: null };
    case 'RUNNING':
      return { kind: s.kind, wave: s.wave, waveCount: s.waveCount, since: s.since, soakStartedAt: s.soakStartedAt, reason: null, reasonKind: null };
    case 'PAUSED':
      return { kind: s.kind, wave: s.wave, waveCount: s.waveCount, since: s.since, soakStartedAt: null, reason: describeReason(s.reason), reasonKind: s.reason.kind };
    case 'COMPLETED':
      return { kind: s.kind, wave: null, waveCount: r.plan.waves.length, since: s.at, soakStartedAt: null, reason: null, reasonKind: null };
    case 'ABORTED':
      return { kind: s.kind, wave: null, waveCount: r.plan.waves.length, since: s.at, soakStartedAt: null, reason: describeReason(s.reason), reasonKind: s.reason.kind };
  }
}

const eta = (e: { remaining: number; perMinute: number | null; at: number | null; percent?: number } | null): EtaView | null =>
  e === null ? null : { remaining: e.remaining, perMinute: e.perMinute, at: e.at, percent: e.percent ?? null };

export function toRolloutView(r: ApiRollout): Rollout {
  const waves: WaveView[] = r.waves.map((w) => ({
    index: w.index,
    name: w.name,
    limit: describeLimit(w.limit),
    selector: describeSelector(w.selector),
    startedAt: w.startedAt,
    endedAt: w.endedAt,
    enrolled: w.enrolled,
    counts: w.counts,
    eta: eta(w.eta),
  }));
  const g = r.gate;
  return {
    id: r.id,
    fleet: r.fleet,
    seq: r.seq,
    pinsetId: String(r.pinsetId),
    createdAt: r.createdAt,
    state: state(r),
    waves,
    gates: r.gates,
    totals: r.executions.byKind,
    total: r.executions.total,
    targetDevices: r.targetDevices,
    gate: g === null ? null : { kind: g.decision.kind, why: g.decision.why ?? null, at: g.at },
    eta: eta(r.eta),
    createdBy: r.createdBy,
  };
}
