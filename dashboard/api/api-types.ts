/**
 * What the dashboard reads from the gateway's JSON API (docs/api.md). Every answer is parsed with the API
 * contract's schemas (top-level api-contract/, the same ones the gateway declares on its routes) and typed by them;
 * the view types below either are the contract's types or are derived from them without guessing (rollout-view.ts,
 * device-view.ts put rollouts and devices into words). Times are unix milliseconds.
 */

import type { z } from 'zod';
import { common } from '../../api-contract/index';
import type {
  AuditEntry as ContractAuditEntry,
  Fleet as ContractFleet,
  PinSetView,
  Readiness as ContractReadiness,
  Report as ContractReport,
  Rotation as ContractRotation,
  TelemetryPoint as ContractTelemetryPoint,
} from '../../api-contract/index';

type ContractCoverageRow = z.infer<typeof common.coverageRow>;

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

/** GET /api/fleets rows; `latestSeq` is 0 while the fleet has no pin set. */
export type Fleet = ContractFleet;

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
  /** Its execution in the rollout the list was filtered by (GET /api/devices?rollout=…). */
  readonly execution: { readonly kind: string; readonly wave: number; readonly code: string | null } | null;
}

/** A page of devices with the totals of a scan (GET /api/devices with withTotal/sort/offset/rollout/atRisk). */
export interface DevicePage extends Page<Device> {
  readonly total: number | null;
  readonly totalCapped: boolean;
  readonly nextOffset: number | null;
  readonly prevOffset: number | null;
}

/** A rollout that reached a device, with the device's execution in it. */
export interface DeviceRollout {
  readonly id: string;
  readonly seq: number | null;
  readonly state: string;
  readonly wave: number;
  readonly kind: string;
  readonly code: string | null;
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

/** A device's security counters since the gateway started (GET /api/devices/:id `security`, issue 17). */
export interface DeviceSecurityView {
  readonly authFailures: number;
  readonly throttled: number;
  readonly lastFailureAt: number | null;
  readonly lastFailureFrom: string | null;
  readonly takeovers: number;
  readonly lastTakeoverAt: number | null;
  readonly lastTakeoverFrom: string | null;
  /** null when the gateway does not say (an older gateway). */
  readonly reportsDropped: { readonly duplicate: number; readonly overLimit: number } | null;
}

export interface DeviceDetail extends Device {
  readonly history: HistoryEntry[];
  readonly rollouts: DeviceRollout[];
  /** null when the gateway has no log-in figures for its devices (an external broker checks them). */
  readonly security: DeviceSecurityView | null;
}

/** GET /api/fleets/:fleet/coverage rows and the rotation gate's answer, as the API contract types them. */
export type CoverageRow = ContractCoverageRow;
export type Readiness = ContractReadiness;
export type AtRiskDevice = ContractReadiness['devices'][number];

/** The execution kinds in the API contract's order (never re-declared here). */
export const EXECUTION_KINDS = common.EXECUTION_KINDS;
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

/** An estimate from observed verify rates (GET /api/rollouts/:id `eta`, `waves[i].eta`). */
export interface EtaView {
  readonly remaining: number;
  readonly perMinute: number | null;
  readonly at: number | null;
  /** The goal in percent (the fleet ETA: 95 % of the target). */
  readonly percent: number | null;
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
  readonly eta: EtaView | null;
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
  /** Devices enrolled so far (executions). */
  readonly total: number;
  /** Devices the rollout's target selects (its whole reach), when the gateway says; progress is measured against it. */
  readonly targetDevices: number | null;
  /** The last gate decision: its kind (hold, advance, approval, pause, complete) and its own words. */
  readonly gate: { readonly kind: string; readonly why: string | null; readonly at: number | null } | null;
  readonly eta: EtaView | null;
  readonly createdBy: string | null;
}

/** One device of a rollout with its execution state (GET /api/rollouts/:id/executions). */
export interface Execution {
  readonly deviceId: string;
  readonly wave: number;
  readonly kind: string;
  readonly attempts: number;
  /** REJECTED: the device's SPEC §4 code. */
  readonly code: string | null;
  /** TIMED_OUT: the phase that timed out (delivery, verify). */
  readonly phase: string | null;
  readonly at: number | null;
}

/** A recorded rotation (GET /api/rotations), as the API contract types it. */
export type Rotation = ContractRotation;

/** A published pin set (GET /api/pinsets): only what the dashboard shows. */
export type PinSetSummary = PinSetView & {
  readonly hosts: { readonly name: string; readonly pins: string[]; readonly enforce: boolean }[];
};

export type TelemetryPoint = ContractTelemetryPoint;
/** A pin validation report; `receivedAt` is the gateway's clock, `deviceTime` the device's (unix seconds). */
export type Report = ContractReport;
/** An audit entry; `detail` is the object the gateway recorded (put into words by components/audit-text.ts). */
export type AuditEntry = ContractAuditEntry;

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
  rollout?: string;
  execState?: string;
  atRiskHost?: string;
  atRiskPin?: string;
  sort?: string;
  order?: 'asc' | 'desc';
  offset?: number;
  withTotal?: 'true';
}
