/**
 * Events of the pin lifecycle watches (issue 16): kill switches, drift and CT findings. Declared here, in events/,
 * so that the EventBus map can name them without events/ importing the watches (no folder cycle); issue 18's
 * webhooks subscribe to these like to any other bus event.
 */
export interface KillSwitchEvent {
  id: number;
  fleet: string;
  host: string;
  mode: 'fail-open' | 'unpin';
  reason: string;
  pinsetId: number;
  seq: number;
  actor: string;
  at: number;
}

/** A finding of a watch, as raised or cleared. `key` is stable for one problem across runs. */
export interface FindingEvent {
  key: string;
  kind: 'drift-unpinned' | 'drift-low-coverage' | 'ct-unpinned' | 'ct-log-problem';
  severity: 'critical' | 'warning';
  fleet: string | null;
  host: string;
  summary: string;
  at: number;
}
