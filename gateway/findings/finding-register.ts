import type { Clock } from '../clock';
import type { EventBus } from '../events/event-bus';
import type { BrowserEventStream } from '../events/browser-event-stream';
import type { FindingEvent } from '../events/lifecycle-events';
import type { FindingFilter, FindingInput, FindingRepo, FindingRow, FindingSource } from '../registry/finding-repo';

export type { FindingSource } from '../registry/finding-repo';
/** A problem a watch sees now. `key` names the problem so that the next run can tell "same", "new" and "gone". */
export type Finding = FindingInput;
export type FindingView = FindingRow;

/** Resolved findings listed by the API and the dashboard (the newest). */
const RESOLVED_LISTED = 200;
/**
 * Resolved findings are deleted this long after they resolved (docs/scale.md "Replicas", retention): long enough
 * to look back over a month of incidents; the audit log and the webhooks' receivers keep the history beyond it.
 */
export const RESOLVED_RETENTION_MS = 30 * 24 * 3600_000;

/**
 * Open and recently resolved findings of the drift and CT watches, kept in the registry (issue 13): every replica's
 * API answers the same list, an acknowledgement made on one replica is seen on all, and a new leader's first run
 * finds the open rows by their key (the dedupe key), so a finding already recorded is refreshed, not raised again.
 * Each run hands its complete set of findings; new ones emit `finding`, open ones the run no longer sees emit
 * `findingCleared` (EventBus, for webhooks: on the replica that ran the watch only), and a browser event (fanned
 * out to every replica).
 */
export class FindingRegister {
  constructor(
    private readonly deps: { store: FindingRepo; events: EventBus; hub: BrowserEventStream; clock: Clock },
    private readonly retainResolvedMs = RESOLVED_RETENTION_MS,
  ) {}

  /**
   * The complete set of `source`'s findings as of a run that just ended. `keep`: open findings the run could not
   * judge (they stay open as they are).
   */
  async replace(source: FindingSource, findings: readonly Finding[], keep?: (open: FindingView) => boolean): Promise<{ raised: number; cleared: number; open: number }> {
    const now = this.deps.clock.now();
    const r = await this.deps.store.replace(source, { findings, now, retainResolvedMs: this.retainResolvedMs, ...(keep === undefined ? {} : { keep }) });
    for (const f of r.raised) this.deps.events.emit('finding', this.event(f, now));
    for (const f of r.cleared) this.deps.events.emit('findingCleared', this.event(f, now));
    const raised = r.raised.length;
    const cleared = r.cleared.length;
    if (raised + cleared > 0) this.deps.hub.publish({ type: 'findings', source, raised, cleared, open: r.open });
    return { raised, cleared, open: r.open };
  }

  list(filter: FindingFilter = {}): Promise<{ open: FindingView[]; resolved: FindingView[] }> {
    return this.deps.store.list(filter, RESOLVED_LISTED);
  }

  /** An operator saw the open finding `key`; undefined when there is no such open finding. */
  async acknowledge(key: string, by: string): Promise<FindingView | undefined> {
    const f = await this.deps.store.acknowledge(key, by, this.deps.clock.now());
    if (f !== undefined) this.deps.hub.publish({ type: 'findings', source: f.source, acknowledged: f.key });
    return f;
  }

  /** Keeps a watch's run (the API's `lastRuns`) for every replica. */
  async recordRun(source: FindingSource, run: { endedAt: number }): Promise<void> {
    await this.deps.store.recordRun(source, JSON.stringify(run), run.endedAt);
  }

  /** The last run of each watch, whichever replica ran it (null: never ran). */
  async lastRuns(): Promise<{ drift: unknown; ct: unknown }> {
    const r = await this.deps.store.lastRuns();
    const parse = (s: string | undefined): unknown => (s === undefined ? null : (JSON.parse(s) as unknown));
    return { drift: parse(r.drift), ct: parse(r.ct) };
  }

  private event(f: Finding, at: number): FindingEvent {
    return { key: f.key, kind: f.kind, severity: f.severity, fleet: f.fleet, host: f.host, summary: f.summary, at };
  }
}
