/**
 * The storage contract for the drift and CT watches' findings (issue 13: they used to live in the leader's memory
 * only, docs/scale.md "Replicas"). Every replica reads the same rows, so every API answers alike; a new leader's
 * first run finds the open rows by their dedupe key and refreshes them instead of raising them again.
 * Implemented by registry/sqlite/finding-store.ts and registry/postgres/pg-findings.ts.
 */

export type FindingSource = 'drift' | 'ct';

/** A problem a watch run sees now. `key` names the problem (the dedupe key): the same problem, the same key. */
export interface FindingInput {
  key: string;
  source: FindingSource;
  kind: 'drift-unpinned' | 'drift-low-coverage' | 'ct-unpinned' | 'ct-log-problem';
  severity: 'critical' | 'warning';
  fleet: string | null;
  host: string;
  summary: string;
  detail: Record<string, unknown>;
}

export interface FindingRow extends FindingInput {
  firstSeenAt: number;
  lastSeenAt: number;
  /** null while open. */
  resolvedAt: number | null;
  /** An operator saw it (POST /api/findings/acknowledge): it stays open until the watch no longer sees it. */
  acknowledgedAt: number | null;
  acknowledgedBy: string | null;
}

export interface FindingReplace {
  /** Every finding of `source` the run sees. */
  findings: readonly FindingInput[];
  now: number;
  /** Open findings the run could not judge (e.g. a CT log this process has not followed yet): left open, untouched. */
  keep?: (open: FindingRow) => boolean;
  /** Resolved findings older than this (resolvedAt < now − retainResolvedMs) are deleted in the same transaction. */
  retainResolvedMs: number;
}

export interface FindingReplaceResult {
  /** Findings with no open row before this run (written now). */
  raised: FindingRow[];
  /** Open rows of `source` the run no longer sees (resolved now). */
  cleared: FindingRow[];
  /** Open findings of `source` after the run. */
  open: number;
}

export interface FindingFilter {
  source?: FindingSource;
  fleet?: string;
  host?: string;
}

export interface FindingRepo {
  /**
   * Records the complete result of one run of `source`'s watch, atomically: two runs at once (the leader's scheduled
   * one and an on-demand run on another replica) are serialised, so a finding is raised once.
   */
  replace(source: FindingSource, r: FindingReplace): Promise<FindingReplaceResult>;
  /** Open findings (critical first, then oldest first) and the newest `resolvedLimit` resolved ones. */
  list(filter: FindingFilter, resolvedLimit: number): Promise<{ open: FindingRow[]; resolved: FindingRow[] }>;
  /** Marks the open finding `key` acknowledged (kept when already acknowledged); undefined when no such open finding. */
  acknowledge(key: string, by: string, now: number): Promise<FindingRow | undefined>;
  /** Keeps `run` (JSON) as the last run of `source`'s watch, unless a run that ended later is already kept. */
  recordRun(source: FindingSource, run: string, endedAt: number): Promise<void>;
  /** The last run of each watch (JSON), absent when it never ran. */
  lastRuns(): Promise<Partial<Record<FindingSource, string>>>;
}

/**
 * The run's diff against the open rows, shared by both dialects (each applies it inside its transaction):
 * which inputs are new, which open rows are seen again, which are gone.
 */
export function diffFindings(
  open: readonly FindingRow[],
  r: Pick<FindingReplace, 'findings' | 'keep'>,
): { raised: FindingInput[]; seen: FindingInput[]; gone: FindingRow[] } {
  const byKey = new Map(open.map((f) => [f.key, f]));
  const inputs = new Map<string, FindingInput>();
  for (const f of r.findings) inputs.set(f.key, f); // one run naming a key twice: the last one wins
  const raised: FindingInput[] = [];
  const seen: FindingInput[] = [];
  for (const f of inputs.values()) (byKey.has(f.key) ? seen : raised).push(f);
  const gone = open.filter((f) => !inputs.has(f.key) && !(r.keep?.(f) ?? false));
  return { raised, seen, gone };
}

/** Open findings first by severity, then by age (the order the API answers). */
export function openOrder(a: FindingRow, b: FindingRow): number {
  const sev = (f: FindingRow) => (f.severity === 'critical' ? 0 : 1);
  return sev(a) - sev(b) || a.firstSeenAt - b.firstSeenAt || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);
}
