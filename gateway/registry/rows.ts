/**
 * The rows of the storage contract, as plain objects (no driver or ORM type leaks to callers). Byte strings that
 * people compare (SHA-256 of envelopes, public keys) are lower-case hex; envelopes are bytes; times are unix ms
 * from the injected clock (pin-set `notAfter` is unix seconds, as in SPEC §2).
 */

export interface DeviceRow {
  id: string;
  fleet: string;
  deviceClass: string;
  labels: string[];
  firmware: string | null;
  credentialHash: string;
  createdAt: number;
  lastSeen: number | null;
  online: boolean;
  /** What the device says it holds (hello) or has applied (ack). 0 = nothing installed. */
  installedSeq: number;
  installedSha256: string | null;
  /** Highest seq the device acknowledged as "verified" (SPEC §6; coverage counts these). */
  verifiedSeq: number;
  verifiedSha256: string | null;
  keysetVersion: number;
  /** Pin set explicitly delivered to this device (deliver()); hello re-delivers it until installed. */
  assignedPinSetId: number | null;
  lastDeliveredAt: number | null;
  flaggedReason: string | null;
  flaggedAt: number | null;
  flagCount: number;
  decommissioned: boolean;
  /** What the coverage counters count for this device (see CoverageRepo). */
  countedInstalled: string | null;
  countedVerified: string | null;
}

export interface NewDevice {
  id: string;
  fleet: string;
  deviceClass: string;
  labels: string[];
  credentialHash: string;
  createdAt: number;
}

export interface DeviceFilter {
  fleet?: string;
  deviceClass?: string;
  online?: boolean;
  seq?: number;
  /** flagged | decommissioned | active */
  state?: 'flagged' | 'decommissioned' | 'active';
  /** Substring of the device id or of a label (case-insensitive). */
  q?: string;
}

export interface HelloState {
  firmware: string;
  installedSeq: number;
  installedSha256: string | null;
  keysetVersion: number;
  at: number;
}

/** A device as the rollout engine sees it (FleetDirectory). */
export interface DirectoryDevice {
  deviceId: string;
  deviceClass: string;
  labels: string[];
  online: boolean;
}

export interface AckHistoryRow {
  id: number;
  deviceId: string;
  sha256: string;
  seq: number;
  status: string;
  code: string | null;
  pinsetId: number | null;
  receivedAt: number;
}

export interface ReportHistoryRow {
  id: number;
  deviceId: string;
  host: string;
  port: number;
  result: string;
  servedPins: string[];
  installedSeq: number;
  deviceTime: number;
  receivedAt: number;
}

export interface MalformedCountRow {
  kind: string;
  code: string;
  count: number;
  lastAt: number;
  lastDetail: string | null;
}

export interface PinSetRow {
  id: number;
  fleet: string;
  seq: number;
  envelope: Buffer;
  sha256: string;
  /** The pin-set document as JSON (the vectors' shape). */
  json: unknown;
  keysetVersion: number;
  notAfter: number;
  /** 'gateway' (signed here from JSON) or 'offline' (uploaded envelope). */
  source: string;
  createdAt: number;
  createdBy: string;
  /** Set when the pin set was released to the whole fleet: every device of the fleet gets it on hello. */
  releasedAt: number | null;
}

export type NewPinSet = Omit<PinSetRow, 'id' | 'releasedAt'> & { releasedAt?: number | null };

export interface KeysetRow {
  version: number;
  publicKeys: string[];
  /** Signed keyset document (SPEC §5); null for the first keyset (provisioned at manufacture). */
  envelope: Buffer | null;
  createdAt: number;
  createdBy: string;
}

export interface AuditEntry {
  id: number;
  at: number;
  actor: string;
  action: string;
  target: string | null;
  detail: Record<string, unknown> | null;
}

export interface RotationRow {
  id: number;
  fleet: string;
  host: string;
  pin: string;
  forced: boolean;
  reason: string | null;
  /** Readiness when recorded, in basis points (coverage %, target %) and the at-risk count. */
  coverage: number;
  target: number;
  atRisk: number;
  recordedAt: number;
  recordedBy: string;
}

export type NewRotation = Omit<RotationRow, 'id'>;

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}
