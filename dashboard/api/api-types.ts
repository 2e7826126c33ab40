/**
 * What the dashboard reads from the gateway's JSON API (docs/api.md), after normalisation (see normalize.ts).
 * These are the dashboard's own view types: it imports nothing from gateway/, it talks to the gateway only over
 * the API. Times are unix milliseconds.
 */

export const ROLES = ['viewer', 'publisher', 'operator', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/** admin > operator > publisher > viewer. */
export function roleAtLeast(role: Role, required: Role): boolean {
  return ROLES.indexOf(role) >= ROLES.indexOf(required);
}

export interface Identity {
  readonly name: string;
  readonly role: Role;
}

export interface Page<T> {
  readonly items: T[];
  readonly nextCursor: string | null;
}

export interface Fleet {
  readonly fleet: string;
  readonly devices: number;
  readonly online: number;
  readonly latestSeq: number | null;
}

export interface Device {
  readonly deviceId: string;
  readonly fleet: string;
  readonly deviceClass: string;
  readonly labels: string[];
  readonly firmware: string | null;
  readonly online: boolean;
  readonly lastSeen: number | null;
  readonly installedSeq: number;
  readonly verifiedSeq: number;
  readonly keysetVersion: number;
  /** The device's state as the gateway names it (e.g. its execution state in the running rollout), if any. */
  readonly state: string | null;
  readonly flaggedReason: string | null;
  readonly decommissioned: boolean;
}

export type HistoryEntry =
  | {
      readonly kind: 'ack';
      readonly at: number;
      readonly seq: number;
      readonly status: string;
      readonly code: string | null;
      readonly sha256: string | null;
    }
  | {
      readonly kind: 'report';
      readonly at: number;
      readonly host: string;
      readonly port: number;
      readonly result: string;
      readonly servedPins: string[];
      readonly installedSeq: number;
    }
  | { readonly kind: 'other'; readonly at: number; readonly text: string };

export interface DeviceDetail extends Device {
  readonly history: HistoryEntry[];
}

export interface CoverageRow {
  readonly host: string;
  readonly pin: string;
  readonly verified: number;
  readonly total: number;
  readonly percent: number;
}

export interface AtRiskDevice {
  readonly deviceId: string;
  readonly online: boolean | null;
  readonly installedSeq: number | null;
  /** Why it is at risk (pin-absent, never-said-hello, unrecognised-set), when the gateway says. */
  readonly why: string | null;
}

export interface Readiness {
  readonly ready: boolean;
  readonly coverage: number;
  readonly target: number;
  readonly atRisk: number;
  readonly devices: AtRiskDevice[];
  readonly nextCursor: string | null;
}

export const EXECUTION_KINDS = [
  'QUEUED',
  'DELIVERED',
  'APPLIED',
  'VERIFIED',
  'REJECTED',
  'TIMED_OUT',
  'SUPERSEDED',
  'DECOMMISSIONED',
] as const;
export type ExecutionKind = (typeof EXECUTION_KINDS)[number];
export type ExecutionCounts = Record<ExecutionKind, number>;

export type RolloutStateKind = 'DRAFT' | 'RUNNING' | 'PAUSED' | 'COMPLETED' | 'ABORTED';

export interface RolloutStateView {
  readonly kind: RolloutStateKind;
  /** Current wave (0-based) while RUNNING/PAUSED. */
  readonly wave: number | null;
  readonly waveCount: number | null;
  readonly since: number | null;
  readonly soakStartedAt: number | null;
  /** Why it paused or aborted, in words. */
  readonly reason: string | null;
  /** The machine kind of the reason (operator, error-gate, telemetry-gate, approval, superseded). */
  readonly reasonKind: string | null;
}

export interface WaveView {
  readonly index: number;
  readonly name: string;
  /** "1 % (max 5)", "10 %", "20 devices" … */
  readonly limit: string;
  readonly selector: string | null;
  readonly startedAt: number | null;
  readonly endedAt: number | null;
  readonly enrolled: number | null;
  readonly counts: ExecutionCounts;
}

export interface GatesView {
  readonly successPercent: number | null;
  readonly soakMs: number | null;
  readonly errorPercent: number | null;
  readonly errorMinFinished: number | null;
  readonly telemetryMismatchPercent: number | null;
  readonly manualApproval: boolean | null;
}

export interface Rollout {
  readonly id: string;
  readonly fleet: string;
  readonly seq: number | null;
  readonly pinsetId: string | null;
  readonly createdAt: number | null;
  readonly state: RolloutStateView;
  readonly waves: WaveView[];
  readonly gates: GatesView;
  readonly totals: ExecutionCounts;
  readonly total: number;
}

export interface TelemetryPoint {
  readonly t: number;
  readonly ok: number;
  readonly mismatch: number;
  readonly failOpen: number;
}

export interface Report {
  readonly deviceId: string;
  readonly host: string;
  readonly port: number;
  readonly result: string;
  readonly servedPins: string[];
  readonly installedSeq: number | null;
  readonly at: number | null;
}

export interface AuditEntry {
  readonly id: string;
  readonly at: number | null;
  readonly actor: string;
  readonly action: string;
  readonly target: string | null;
  readonly detail: string | null;
}

export const ROLLOUT_ACTIONS = ['start', 'pause', 'resume', 'abort', 'advance', 'retry-failed'] as const;
export type RolloutAction = (typeof ROLLOUT_ACTIONS)[number];

export interface DeviceQuery {
  fleet?: string;
  deviceClass?: string;
  online?: 'true' | 'false';
  seq?: string;
  state?: string;
  q?: string;
  limit?: number;
  cursor?: string;
}
