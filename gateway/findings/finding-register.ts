import type { Clock } from '../clock';
import type { EventBus } from '../events/event-bus';
import type { BrowserEventStream } from '../events/browser-event-stream';
import type { FindingEvent } from '../events/lifecycle-events';

export type FindingSource = 'drift' | 'ct';

/** A problem a watch sees now. `key` names the problem so that the next run can tell "same", "new" and "gone". */
export interface Finding {
  key: string;
  source: FindingSource;
  kind: FindingEvent['kind'];
  severity: FindingEvent['severity'];
  fleet: string | null;
  host: string;
  summary: string;
  detail: Record<string, unknown>;
}

export interface FindingView extends Finding {
  firstSeenAt: number;
  lastSeenAt: number;
  resolvedAt: number | null;
}

/** Resolved findings kept for the API and the dashboard (the newest). */
const RESOLVED_KEPT = 200;

/**
 * Open and recently resolved findings of the drift and CT watches. In memory by design (issue 16): each run
 * recomputes its findings from scratch (drift: the served keys now; CT: every certificate seen for our names
 * against the current pins), so after a restart the first run rebuilds them; only `firstSeenAt` is lost.
 * New findings emit `finding`, findings a run no longer sees emit `findingCleared` (EventBus, for webhooks) and
 * a browser event.
 */
export class FindingRegister {
  private readonly open = new Map<string, FindingView>();
  private readonly resolved: FindingView[] = [];

  constructor(private readonly deps: { events: EventBus; hub: BrowserEventStream; clock: Clock }) {}

  /** The complete set of `source`'s findings as of a run that just ended. */
  replace(source: FindingSource, findings: Finding[]): { raised: number; cleared: number; open: number } {
    const now = this.deps.clock.now();
    const seen = new Set<string>();
    let raised = 0;
    let cleared = 0;
    for (const f of findings) {
      seen.add(f.key);
      const before = this.open.get(f.key);
      if (before !== undefined) {
        this.open.set(f.key, { ...f, firstSeenAt: before.firstSeenAt, lastSeenAt: now, resolvedAt: null });
        continue;
      }
      this.open.set(f.key, { ...f, firstSeenAt: now, lastSeenAt: now, resolvedAt: null });
      raised++;
      this.deps.events.emit('finding', this.event(f, now));
    }
    for (const [key, f] of [...this.open]) {
      if (f.source !== source || seen.has(key)) continue;
      this.open.delete(key);
      const done = { ...f, resolvedAt: now };
      this.resolved.unshift(done);
      cleared++;
      this.deps.events.emit('findingCleared', this.event(f, now));
    }
    this.resolved.splice(RESOLVED_KEPT);
    if (raised + cleared > 0) this.deps.hub.publish({ type: 'findings', source, raised, cleared, open: this.count(source) });
    return { raised, cleared, open: this.count(source) };
  }

  list(filter: { source?: FindingSource; fleet?: string; host?: string } = {}): { open: FindingView[]; resolved: FindingView[] } {
    const match = (f: FindingView) =>
      (filter.source === undefined || f.source === filter.source) &&
      (filter.fleet === undefined || f.fleet === filter.fleet) &&
      (filter.host === undefined || f.host === filter.host.toLowerCase());
    const severity = (f: FindingView) => (f.severity === 'critical' ? 0 : 1);
    return {
      open: [...this.open.values()].filter(match).sort((a, b) => severity(a) - severity(b) || a.firstSeenAt - b.firstSeenAt),
      resolved: this.resolved.filter(match),
    };
  }

  private count(source: FindingSource): number {
    return [...this.open.values()].filter((f) => f.source === source).length;
  }

  private event(f: Finding, at: number): FindingEvent {
    return { key: f.key, kind: f.kind, severity: f.severity, fleet: f.fleet, host: f.host, summary: f.summary, at };
  }
}
