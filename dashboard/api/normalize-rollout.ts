/**
 * Rollout answers (GET /api/rollouts, GET /api/rollouts/:id) → the dashboard's Rollout view. The gateway sends the
 * rollout snapshot (state, plan, config.gates, started waves) plus execution counts per state, overall and per
 * wave (`executions: {total, byKind, byWave}`); per-wave counts may also sit on each wave (`waves[i].counts`).
 */
import type { EtaView, ExecutionCounts, GatesView, Rollout, RolloutStateKind, RolloutStateView, WaveView } from './api-types';
import { bool, counts, isObj, list, num, obj, pick, str, strings, time, zeroCounts, type Obj } from './normalize';

const STATE_KINDS: readonly RolloutStateKind[] = ['DRAFT', 'RUNNING', 'PAUSED', 'COMPLETED', 'ABORTED'];

/** A pause or abort reason in words an operator understands. */
export function describeReason(v: unknown): string | null {
  if (typeof v === 'string') return v;
  if (!isObj(v)) return null;
  const kind = str(v['kind']);
  const message = str(v['message']);
  switch (kind) {
    case 'operator':
      return message !== null && message !== '' ? `by an operator: ${message}` : 'by an operator';
    case 'error-gate':
      return `by the error gate: at the pause, ${num(v['failed']) ?? '?'} of ${num(v['finished']) ?? '?'} finished devices had failed.`;
    case 'telemetry-gate':
      return `by the telemetry gate: at the pause, ${num(v['mismatches']) ?? '?'} of ${num(v['reports']) ?? '?'} pin reports were mismatches.`;
    case 'approval':
      return `for approval: wave ${(num(v['wave']) ?? 0) + 1} passed its gates.`;
    case 'wave-failed':
      return `because wave ${(num(v['wave']) ?? 0) + 1} can no longer pass its success gate: ${num(v['failed']) ?? '?'} of ${num(v['size']) ?? '?'} devices failed.`;
    case 'superseded':
      return `superseded by rollout ${str(v['by']) ?? '?'}`;
    default:
      return message ?? kind;
  }
}

function toState(v: unknown): RolloutStateView {
  const o = isObj(v) ? v : { kind: v };
  const rawKind = (str(o['kind']) ?? str(o['state']) ?? 'DRAFT').toUpperCase();
  const kind = (STATE_KINDS as readonly string[]).includes(rawKind) ? (rawKind as RolloutStateKind) : 'DRAFT';
  const reason = o['reason'];
  return {
    kind,
    wave: num(o['wave']),
    waveCount: num(o['waveCount']),
    since: pick(o, ['since', 'at'], time),
    soakStartedAt: time(o['soakStartedAt']),
    reason: describeReason(reason),
    reasonKind: isObj(reason) ? str(reason['kind']) : null,
  };
}

export function describeLimit(v: unknown): string {
  const o = obj(v);
  const count = num(o['count']);
  if (count !== null) return `${count} device${count === 1 ? '' : 's'}`;
  const percent = num(o['percent']);
  if (percent === null) return '—';
  const bounds: string[] = [];
  const min = num(o['min']);
  const max = num(o['max']);
  if (min !== null) bounds.push(`min ${min}`);
  if (max !== null) bounds.push(`max ${max}`);
  return `${percent} %${bounds.length > 0 ? ` (${bounds.join(', ')})` : ''}`;
}

function describeSelector(v: unknown): string | null {
  if (!isObj(v)) return null;
  const parts: string[] = [];
  for (const [key, label] of [
    ['deviceClasses', 'class'],
    ['labels', 'label'],
    ['deviceIds', 'device'],
  ] as const) {
    const values = strings(v[key]);
    if (values.length > 0) parts.push(`${label} ∈ {${values.join(', ')}}`);
  }
  return parts.length > 0 ? parts.join(' · ') : null;
}

function toGates(o: Obj): GatesView {
  const g = obj(o['gates'] ?? obj(o['config'])['gates']);
  return {
    successPercent: num(g['successPercent']),
    soakMs: num(g['soakMs']),
    errorPercent: num(g['errorPercent']),
    errorMinFinished: num(g['errorMinFinished']),
    telemetryMismatchPercent: num(g['telemetryMismatchPercent']),
    manualApproval: bool(g['manualApproval'] ?? o['manualApproval']),
  };
}

function sumCounts(all: ExecutionCounts[]): ExecutionCounts {
  const total = zeroCounts();
  for (const c of all) for (const k of Object.keys(total) as (keyof ExecutionCounts)[]) total[k] += c[k];
  return total;
}

export function toRollout(v: unknown): Rollout {
  const o = obj(v);
  const state = toState(o['state']);
  const executions = obj(o['executions'] ?? o['counts']);
  const byWave = list(executions['byWave']);
  const planWaves = list(obj(o['plan'])['waves'] ?? o['plan']);
  const started = list(o['waves']);
  const n = Math.max(planWaves.length, started.length, byWave.length, state.waveCount ?? 0);
  const waves: WaveView[] = [];
  for (let i = 0; i < n; i++) {
    const spec = obj(planWaves[i]);
    const rec = obj(started.find((w) => num(obj(w)['index']) === i) ?? started[i]);
    const c = isObj(rec['counts']) ? counts(rec['counts']) : counts(byWave[i]);
    waves.push({
      index: i,
      name: str(spec['name']) ?? str(rec['name']) ?? `wave ${i + 1}`,
      limit: describeLimit(spec['limit'] ?? rec['limit']),
      selector: describeSelector(spec['selector'] ?? rec['selector']),
      startedAt: time(rec['startedAt']),
      endedAt: time(rec['endedAt']),
      enrolled: num(rec['enrolled']),
      counts: c,
      eta: toEta(rec['eta']),
    });
  }
  const totals = isObj(executions['byKind']) ? counts(executions['byKind']) : sumCounts(waves.map((w) => w.counts));
  const total = num(executions['total']) ?? Object.values(totals).reduce((a, b) => a + b, 0);
  return {
    id: pick(o, ['id', 'rolloutId'], str) ?? '?',
    fleet: str(o['fleet']) ?? '',
    seq: num(o['seq']),
    pinsetId: str(o['pinsetId']),
    createdAt: time(o['createdAt']),
    state: { ...state, waveCount: state.waveCount ?? (n > 0 ? n : null) },
    waves,
    gates: toGates(o),
    totals,
    total,
    targetDevices: num(o['targetDevices']),
    gate: toGate(o['gate']),
    eta: toEta(o['eta']),
    createdBy: str(o['createdBy']),
  };
}

function toEta(v: unknown): EtaView | null {
  if (!isObj(v)) return null;
  return { remaining: num(v['remaining']) ?? 0, perMinute: num(v['perMinute']), at: time(v['at']), percent: num(v['percent']) };
}

function toGate(v: unknown): Rollout['gate'] {
  if (!isObj(v)) return null;
  const d = obj(v['decision']);
  const kind = str(d['kind']);
  return kind === null ? null : { kind, why: str(d['why']), at: time(v['at']) };
}
