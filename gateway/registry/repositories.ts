/**
 * The storage contract: asynchronous repositories, one per kind of record. Two implementations satisfy it,
 * registry/sqlite/ (the embedded default, one file) and registry/postgres/ (PINGW_DATABASE_URL, several gateway
 * processes on one database); test/registry/registry-contract.ts runs the same suite against both. No module
 * outside those two folders imports a driver, drizzle or SQL.
 *
 * Writes that must commit together go through `Registry.transaction` (registry.ts), or are one repository call
 * that the implementation commits atomically (`IngestRepo.writeBatch`: acks, reports and their counters).
 */
import type { ExecutionRecord, ExecutionSummary, RolloutSnapshot } from '../rollout-engine/index';
import type { Role } from '../auth/api-tokens';
import type {
  AckHistoryRow,
  AuditEntry,
  DeviceFilter,
  DeviceRow,
  DirectoryDevice,
  HelloState,
  KeysetRow,
  MalformedCountRow,
  NewDevice,
  NewPinSet,
  NewRotation,
  Page,
  PinSetRow,
  ReportHistoryRow,
  RotationRow,
} from './rows';
import type { KillCoverageCounts, KillSwitchRow, NewKillSwitch, NewPlan, PlanHistoryEntry, PlanStep, PlanUpdate, RotationPlanRow } from './lifecycle-rows';

export interface DeviceRepo {
  get(id: string): Promise<DeviceRow | undefined>;
  /** The devices of `ids` that exist, in any order (a rollout's delivery chunk: one read instead of one per device). */
  getMany(ids: readonly string[]): Promise<DeviceRow[]>;
  /** Inserts a device; false when the id is taken. Reconcile its coverage counters in the same transaction. */
  insert(d: NewDevice): Promise<boolean>;
  /**
   * Bulk enrolment: inserts the devices whose ids are free and counts them in the coverage counters, atomically.
   * Returns how many were new.
   */
  insertMany(devices: readonly NewDevice[]): Promise<number>;
  setOnline(id: string, online: boolean, at: number): Promise<void>;
  /**
   * Replaces a device's credential hash only while it still equals `expected` (compare-and-set: a re-hash after a
   * log-in is written once even when two log-ins race, and never over a hash changed meanwhile). True when written.
   */
  replaceCredentialHash(id: string, expected: string, next: string): Promise<boolean>;
  /** Marks every device offline (start-up of a single gateway: no connection survives a restart). */
  setAllOffline(): Promise<void>;
  applyHello(id: string, h: HelloState): Promise<void>;
  flag(id: string, reason: string, at: number): Promise<void>;
  assign(id: string, pinsetId: number, at: number): Promise<void>;
  /** `assign` for several devices, atomically (a delivery chunk: one write instead of one per device). */
  assignMany(ids: readonly string[], pinsetId: number, at: number): Promise<void>;
  setDecommissioned(id: string): Promise<void>;
  /** Undoes setDecommissioned (issue 18: reversible). Reconcile its coverage counters in the same transaction. */
  setRecommissioned(id: string): Promise<void>;
  /** Ids ascending; `cursor` is the last id of the previous page. */
  list(filter: DeviceFilter, limit: number, cursor?: string): Promise<Page<DeviceRow>>;
  /** Devices of one fleet (not decommissioned), ids ascending. */
  idsOfFleet(fleet: string): Promise<string[]>;
  onlineIds(): Promise<string[]>;
  fleets(): Promise<{ fleet: string; devices: number; online: number }[]>;
  history(id: string, limit: number): Promise<{ acks: AckHistoryRow[]; reports: ReportHistoryRow[] }>;
  malformedCounts(id: string): Promise<MalformedCountRow[]>;
  /** The fleet's devices (not decommissioned) as the rollout engine sees them. */
  directory(fleet: string): Promise<DirectoryDevice[]>;
  /**
   * Devices of a fleet whose coverage counters count them under one of `installedKeys` (the rotation gate's
   * at-risk list), ids ascending after `afterId`.
   */
  withInstalledKeys(
    fleet: string,
    installedKeys: readonly string[],
    afterId: string,
    limit: number,
  ): Promise<{ id: string; online: boolean; installedSeq: number; countedInstalled: string }[]>;
  /** How many of those devices are offline now (issue 16 §5: they fail for sure at a switch planned later). */
  countOfflineWithInstalledKeys(fleet: string, installedKeys: readonly string[]): Promise<number>;
}

export interface PinSetRepo {
  /** undefined when the (fleet, seq) or the envelope SHA-256 is taken (unique keys). */
  insert(p: NewPinSet): Promise<PinSetRow | undefined>;
  get(id: number): Promise<PinSetRow | undefined>;
  getByFleetSeq(fleet: string, seq: number): Promise<PinSetRow | undefined>;
  getBySha256(sha256: string): Promise<PinSetRow | undefined>;
  maxSeq(fleet: string): Promise<number>;
  /** The newest pin set released to the whole fleet, if any. */
  latestReleasedFor(fleet: string): Promise<PinSetRow | undefined>;
  markReleased(id: number, at: number): Promise<void>;
  /** By fleet, newest seq first. */
  list(fleet?: string): Promise<PinSetRow[]>;
  latestSeqByFleet(): Promise<Map<string, number>>;
  /** Acks per status (counters kept by the ingest). */
  ackCounts(id: number): Promise<Record<string, number>>;
}

export interface KeysetRepo {
  current(): Promise<KeysetRow | undefined>;
  insert(row: KeysetRow): Promise<void>;
  /** Signed keyset documents newer than `version`, oldest first. */
  newerThan(version: number): Promise<KeysetRow[]>;
  list(): Promise<KeysetRow[]>;
}

export interface TokenIdentity {
  name: string;
  role: Role;
  /** ms; null = never expires. The caller compares it with its clock (the storage keeps no time of its own). */
  expiresAt: number | null;
}

/** A token as listed to admins: never its secret nor its hash. */
export interface TokenInfo {
  name: string;
  role: Role;
  createdAt: number;
  createdBy: string;
  expiresAt: number | null;
  revokedAt: number | null;
  lastUsedAt: number | null;
}

export interface TokenRepo {
  /** Inserts a token; false when the name is taken. */
  insert(name: string, role: Role, tokenHash: string, createdBy: string, at: number, expiresAt?: number | null): Promise<boolean>;
  /**
   * Sets the hash of a named token, creating it if needed (the admin token file is the source of truth). A new hash
   * clears a revocation (the operator rotated the file); the same hash keeps it.
   */
  upsert(name: string, role: Role, tokenHash: string, at: number): Promise<void>;
  /** The identity of a token that exists and is not revoked (expiry is left to the caller), else null. */
  lookup(tokenHash: string): Promise<TokenIdentity | null>;
  /** All tokens by name. */
  list(): Promise<TokenInfo[]>;
  /** Revokes a token at once (the first revocation time is kept); false when no token has that name. */
  revoke(name: string, at: number): Promise<boolean>;
  /** Records a use (the caller throttles). */
  touch(name: string, at: number): Promise<void>;
}

/** Append-only: the storage refuses UPDATE and DELETE (a trigger in both dialects). */
export interface AuditRepo {
  append(actor: string, action: string, target: string | null, detail?: Record<string, unknown>): Promise<void>;
  /** Newest first; `cursor` is the id of the last entry of the previous page. */
  list(limit: number, cursor?: number): Promise<Page<AuditEntry>>;
}

export interface SetCount {
  key: string;
  count: number;
}

/**
 * Coverage counters (SPEC §8), kept incrementally so that reading them never scans the fleet. Each device row
 * records what the counters count for it (countedInstalled / countedVerified); `reconcile` derives what they should
 * count and applies the difference. Run it in the transaction that changed the row.
 */
export interface CoverageRepo {
  reconcile(deviceId: string): Promise<void>;
  /** Devices never reconciled (a data dir from before the counters): counted in batches. Returns how many. */
  reconcilePending(): Promise<number>;
  /** Devices per installed-set key (sum = fleet size, offline included, decommissioned excluded). */
  installedSets(fleet: string): Promise<SetCount[]>;
  /** Devices per verified (and still installed) set. */
  verifiedSets(fleet: string): Promise<SetCount[]>;
  fleetSize(fleet: string): Promise<number>;
  /** Counter rows per exact host entry and pin (zero rows included). */
  pinCounts(fleet: string): Promise<{ host: string; pin: string; count: number }[]>;
}

export interface TelemetryPoint {
  /** Bucket start, unix ms. */
  t: number;
  ok: number;
  mismatch: number;
  failOpen: number;
}

export interface ReportView extends ReportHistoryRow {
  fleet: string;
}

export interface TelemetryRepo {
  /** Series from `sinceMs` on, in buckets of `bucketMs` (a multiple of a minute); empty buckets omitted. */
  series(q: { fleet?: string; host?: string; bucketMs: number; sinceMs: number }): Promise<TelemetryPoint[]>;
  lastReports(q: { fleet?: string; host?: string; limit: number }): Promise<ReportView[]>;
  /**
   * The devices of one rollout that run `seq` and reported since `sinceMs`, each once, with whether any of its
   * reports was a mismatch (the telemetry gate's input: it counts devices, not reports; issue 17).
   */
  rolloutReporters(rolloutId: string, seq: number, sinceMs: number): Promise<{ deviceId: string; mismatch: boolean }[]>;
}

export interface RolloutRow {
  id: string;
  fleet: string;
  pinsetId: number;
  seq: number;
  state: string;
  snapshot: RolloutSnapshot;
  warnings: string[];
  lastGate: Record<string, unknown> | null;
  createdAt: number;
  createdBy: string;
  updatedAt: number;
}

export interface RolloutRepo {
  insert(r: { snapshot: RolloutSnapshot; pinsetId: number; warnings: readonly string[]; createdBy: string }): Promise<void>;
  /** A new rollout id `r1`, `r2`, … from a counter row (never count(*)+1: safe with several writers). */
  nextId(): Promise<string>;
  get(id: string): Promise<RolloutRow | undefined>;
  /** Newest first. */
  list(filter?: { fleet?: string; state?: string }): Promise<RolloutRow[]>;
  /** RUNNING / PAUSED, and COMPLETED ones with executions still active (stragglers); oldest first. */
  active(): Promise<RolloutRow[]>;
  executions(rolloutId: string): Promise<ExecutionRecord[]>;
  /** A step's result: snapshot + changed executions (+ the last gate decision), atomically. */
  save(rollout: RolloutSnapshot, executions: readonly ExecutionRecord[], at: number, lastGate?: Record<string, unknown>): Promise<void>;
  /** Execution counts per state, overall and per wave. */
  summary(rolloutId: string): Promise<ExecutionSummary>;
  /** True when a rollout that is not COMPLETED owns the pin set. */
  ownsPinSet(pinsetId: number): Promise<boolean>;
  /** Acks a device sent for an envelope since `sinceMs`, in arrival order. */
  acksSince(deviceId: string, sha256: string, sinceMs: number): Promise<{ status: string; code: string | null }[]>;
}

export interface RotationRepo {
  insert(r: NewRotation): Promise<RotationRow>;
  /** Newest first. */
  list(filter: { fleet?: string; host?: string }, limit: number): Promise<RotationRow[]>;
}

/** Kill switches engaged (issue 16 §1). */
export interface KillSwitchRepo {
  insert(r: NewKillSwitch): Promise<KillSwitchRow>;
  get(id: number): Promise<KillSwitchRow | undefined>;
  /** Newest first, at most `limit` (default 100). */
  list(fleet?: string, limit?: number): Promise<KillSwitchRow[]>;
  /** Live coverage of a kill set of seq `seq`: counts over the fleet's device rows (decommissioned excluded). */
  coverage(fleet: string, seq: number): Promise<KillCoverageCounts>;
}

/** Guided rotation plans (issue 16 §4). */
export interface RotationPlanRepo {
  /** A new plan in step `planned` with an empty history. */
  insert(p: NewPlan): Promise<RotationPlanRow>;
  get(id: number): Promise<RotationPlanRow | undefined>;
  /** Newest first, at most 200. */
  list(filter?: { fleet?: string; host?: string }): Promise<RotationPlanRow[]>;
  /**
   * Moves the plan to `step` with the fields that changed, appending `entry` to its history, atomically (the row
   * is locked on PostgreSQL, so two gateways cannot both append over the same history). undefined when the plan
   * does not exist.
   */
  update(id: number, changes: PlanUpdate, step: PlanStep, entry: PlanHistoryEntry): Promise<RotationPlanRow | undefined>;
}

export interface IngestAck {
  deviceId: string;
  seq: number;
  sha256: string;
  status: string;
  code: string | null;
  /** Known pin set with this sha256 and seq, else null (the ack is still kept as evidence). */
  pinsetId: number | null;
  at: number;
}

export interface IngestReport {
  deviceId: string;
  host: string;
  port: number;
  result: string;
  servedPins: string[];
  installedSeq: number;
  deviceTime: number;
  at: number;
}

export interface IngestMalformed {
  deviceId: string;
  kind: string;
  code: string;
  count: number;
  lastAt: number;
  lastDetail: string;
}

export interface IngestBatch {
  acks: readonly IngestAck[];
  reports: readonly IngestReport[];
  malformed: readonly IngestMalformed[];
  /** Last heard-from time per device. */
  seen: ReadonlyMap<string, number>;
}

export interface IngestRepo {
  /**
   * Commits a batch in one transaction: acks (one row per device + envelope + status; a repeat is absorbed),
   * their per-pin-set counters, the devices' installed/verified sets and coverage counters, reports and their
   * telemetry buckets, malformed counts and last-seen times. Returns per ack and per report whether it was new
   * (fleets whose coverage changed are announced through Registry.onCoverageChange).
   */
  writeBatch(batch: IngestBatch): Promise<{ acks: boolean[]; reports: boolean[] }>;
}
