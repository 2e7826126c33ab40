/**
 * Audit entries in words (issue 15: "details readable, not raw JSON"): what happened, and the fields that matter,
 * for the audit page and a rollout's activity timeline. Unknown actions fall back to "key: value" pairs.
 */
import type { AuditEntry } from '../api/api-types';

const str = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : typeof v === 'number' ? String(v) : null);
const waveNo = (v: unknown): string | null => (typeof v === 'number' ? String(v + 1) : null);

function reasonOf(v: unknown): string | null {
  if (typeof v === 'string') return v === '' ? null : v;
  if (typeof v !== 'object' || v === null) return null;
  const r = v as Record<string, unknown>;
  switch (r['kind']) {
    case 'operator':
      return str(r['message']);
    case 'error-gate':
      return `error gate: ${str(r['failed']) ?? '?'} of ${str(r['finished']) ?? '?'} finished devices failed`;
    case 'telemetry-gate':
      return `telemetry gate: ${str(r['mismatches']) ?? '?'} of ${str(r['reports']) ?? '?'} reports mismatched`;
    case 'approval':
      return `waiting for approval after wave ${waveNo(r['wave']) ?? '?'}`;
    case 'wave-failed':
      return `wave ${waveNo(r['wave']) ?? '?'} failed: ${str(r['failed']) ?? '?'} of ${str(r['size']) ?? '?'} devices`;
    case 'superseded':
      return `superseded by rollout ${str(r['by']) ?? '?'}`;
    default:
      return str(r['kind']);
  }
}

const VERBS: Record<string, string> = {
  'rollout.create': 'created the rollout',
  'rollout.start': 'started',
  'rollout.pause': 'paused',
  'rollout.resume': 'resumed',
  'rollout.abort': 'aborted',
  'rollout.advance': 'advanced',
  'rollout.retry-failed': 'queued the failed devices again',
  'rollout.state': 'state changed',
  'rollout.wave': 'wave started',
  'rollout.enrolled': 'devices joined',
  'rollout.superseded': 'superseded',
  'access.refused': 'was refused (role)',
  'rotation.recorded': 'recorded a rotation',
  'rotation.forced': 'FORCED a rotation past the gate',
  'rotation.refused': 'was refused a rotation (gate not met)',
  'device.enrol': 'enrolled a device',
  'token.create': 'created a token',
};

/** "paused · from RUNNING to PAUSED · wave 2 · reason: night freeze" */
export function describeAudit(e: AuditEntry): { verb: string; detail: string } {
  const d = e.detail ?? {};
  const parts: string[] = [];
  const refused = e.action.endsWith('.refused') && e.action.startsWith('rollout.');
  const verb = refused ? `was refused: ${e.action.slice('rollout.'.length, -'.refused'.length)}` : (VERBS[e.action] ?? e.action);
  if (str(d['from']) !== null && str(d['to']) !== null) parts.push(`${str(d['from'])} → ${str(d['to'])}`);
  if (d['skipped'] === true) parts.push(`wave ${waveNo(d['wave']) ?? '?'} skipped (no devices)`);
  else if (waveNo(d['wave']) !== null) parts.push(`wave ${waveNo(d['wave'])}`);
  if (typeof d['enrolled'] === 'number' && d['skipped'] !== true) parts.push(`${d['enrolled']} devices`);
  if (typeof d['devices'] === 'number') parts.push(`${d['devices']} devices`);
  if (str(d['event']) !== null && e.action === 'rollout.state') parts.push(`on ${str(d['event'])}`);
  if (str(d['by']) !== null) parts.push(`by rollout ${str(d['by'])}`);
  if (str(d['pin']) !== null) parts.push(`pin ${str(d['pin'])}`);
  if (typeof d['coverage'] === 'number' && typeof d['target'] === 'number') parts.push(`coverage ${d['coverage']} % of target ${d['target']} %`);
  if (typeof d['atRisk'] === 'number') parts.push(`${d['atRisk']} at risk`);
  if (str(d['needs']) !== null) parts.push(`role ${str(d['role']) ?? '?'}, needs ${str(d['needs'])}`);
  if (str(d['error']) !== null) parts.push(`refused: ${str(d['error'])}`);
  const reason = reasonOf(d['reason']);
  if (reason !== null) parts.push(`reason: ${reason}`);
  if (parts.length === 0) {
    for (const [k, v] of Object.entries(d)) {
      if (v === null || v === undefined || typeof v === 'object') continue;
      parts.push(`${k}: ${String(v)}`);
    }
  }
  return { verb, detail: parts.join(' · ') };
}
