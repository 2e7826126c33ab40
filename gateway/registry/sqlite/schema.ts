/**
 * The registry's SQLite schema (drizzle-orm). Migrations are generated from this file with
 * `npm run db:generate` into gateway/registry/sqlite/migrations and run at start-up. The PostgreSQL schema
 * (../postgres/schema.ts) has the same tables and column names.
 * Byte strings that people compare (SHA-256 of envelopes, public keys) are stored as lower-case hex;
 * envelopes themselves are blobs. Times are unix milliseconds from the injected clock.
 */
import { sql } from 'drizzle-orm';
import { blob, index, integer, primaryKey, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core';

export const devices = sqliteTable(
  'devices',
  {
    id: text('id').primaryKey(),
    fleet: text('fleet').notNull(),
    deviceClass: text('device_class').notNull(),
    /** JSON array of strings. */
    labels: text('labels', { mode: 'json' }).$type<string[]>().notNull().default(sql`'[]'`),
    firmware: text('firmware'),
    credentialHash: text('credential_hash').notNull(),
    createdAt: integer('created_at').notNull(),
    lastSeen: integer('last_seen'),
    online: integer('online', { mode: 'boolean' }).notNull().default(false),
    /** What the device says it holds (hello) or has applied (ack). 0 = nothing installed. */
    installedSeq: integer('installed_seq').notNull().default(0),
    installedSha256: text('installed_sha256'),
    /** Highest seq the device acknowledged as "verified" (SPEC §6; coverage counts these). */
    verifiedSeq: integer('verified_seq').notNull().default(0),
    verifiedSha256: text('verified_sha256'),
    keysetVersion: integer('keyset_version').notNull().default(0),
    /** Pin set explicitly delivered to this device (deliver()); hello re-delivers it until installed. */
    assignedPinSetId: integer('assigned_pinset_id'),
    lastDeliveredAt: integer('last_delivered_at'),
    flaggedReason: text('flagged_reason'),
    flaggedAt: integer('flagged_at'),
    flagCount: integer('flag_count').notNull().default(0),
    decommissioned: integer('decommissioned', { mode: 'boolean' }).notNull().default(false),
    /**
     * What the coverage counters currently count for this device (registry/coverage-store.ts keeps them in step,
     * in the same transaction as the change): the installed-set key (envelope SHA-256, 'none' = said hello with
     * nothing installed, 'unknown' = never said hello; null = not counted, i.e. decommissioned or not reconciled
     * yet) and the verified set still installed (SHA-256 or null).
     */
    countedInstalled: text('counted_installed'),
    countedVerified: text('counted_verified'),
  },
  (t) => [
    index('devices_fleet_idx').on(t.fleet, t.id),
    index('devices_fleet_seq_idx').on(t.fleet, t.installedSeq),
    index('devices_fleet_counted_idx').on(t.fleet, t.countedInstalled, t.id),
  ],
);

export const pinsets = sqliteTable(
  'pinsets',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    fleet: text('fleet').notNull(),
    seq: integer('seq').notNull(),
    envelope: blob('envelope', { mode: 'buffer' }).notNull(),
    sha256: text('sha256').notNull(),
    /** The pin-set document as JSON (the vectors' shape), for people and the API. */
    json: text('json', { mode: 'json' }).$type<unknown>().notNull(),
    keysetVersion: integer('keyset_version').notNull(),
    notAfter: integer('not_after').notNull(),
    /** 'gateway' (signed here from JSON) or 'offline' (uploaded envelope). */
    source: text('source').notNull(),
    createdAt: integer('created_at').notNull(),
    createdBy: text('created_by').notNull(),
    /** Set when the pin set was delivered to the whole fleet: every device of the fleet gets it on hello. */
    releasedAt: integer('released_at'),
  },
  (t) => [uniqueIndex('pinsets_fleet_seq_uq').on(t.fleet, t.seq), uniqueIndex('pinsets_sha256_uq').on(t.sha256)],
);

export const keysets = sqliteTable('keysets', {
  version: integer('version').primaryKey(),
  /** JSON array of hex Ed25519 public keys. */
  publicKeys: text('public_keys', { mode: 'json' }).$type<string[]>().notNull(),
  /** Signed keyset document (SPEC §5) pushed to devices; null for the first keyset (provisioned at manufacture). */
  envelope: blob('envelope', { mode: 'buffer' }),
  createdAt: integer('created_at').notNull(),
  createdBy: text('created_by').notNull(),
});

export const acks = sqliteTable(
  'acks',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    deviceId: text('device_id').notNull(),
    sha256: text('sha256').notNull(),
    seq: integer('seq').notNull(),
    status: text('status').notNull(),
    code: text('code'),
    pinsetId: integer('pinset_id'),
    receivedAt: integer('received_at').notNull(),
  },
  // one row per device + envelope + status: QoS 1 redelivery is absorbed by the unique index
  // (no index by pin set: per-set counts are kept in pinset_ack_counts; every write of an ack pays for each index)
  (t) => [uniqueIndex('acks_device_sha_status_uq').on(t.deviceId, t.sha256, t.status)],
);

/** Counters kept up to date in the ack write transaction (per pin set and status). */
export const pinsetAckCounts = sqliteTable(
  'pinset_ack_counts',
  {
    pinsetId: integer('pinset_id').notNull(),
    status: text('status').notNull(),
    count: integer('count').notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.pinsetId, t.status] })],
);

export const reports = sqliteTable(
  'reports',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    deviceId: text('device_id').notNull(),
    host: text('host').notNull(),
    port: integer('port').notNull(),
    result: text('result').notNull(),
    /** JSON array of 'sha256/…' pins the host served. */
    servedPins: text('served_pins', { mode: 'json' }).$type<string[]>().notNull(),
    installedSeq: integer('installed_seq').notNull(),
    /** The device's own time of the observation (unix seconds, as sent). */
    deviceTime: integer('device_time').notNull(),
    receivedAt: integer('received_at').notNull(),
  },
  (t) => [
    uniqueIndex('reports_device_host_time_uq').on(t.deviceId, t.host, t.port, t.deviceTime),
    index('reports_host_time_idx').on(t.host, t.receivedAt),
  ],
);

export const malformedCounts = sqliteTable(
  'malformed_counts',
  {
    deviceId: text('device_id').notNull(),
    /** Topic kind the message came on (hello, ack, report). */
    kind: text('kind').notNull(),
    code: text('code').notNull(),
    count: integer('count').notNull().default(0),
    lastAt: integer('last_at').notNull(),
    lastDetail: text('last_detail'),
  },
  (t) => [primaryKey({ columns: [t.deviceId, t.kind, t.code] })],
);

export const apiTokens = sqliteTable('api_tokens', {
  id: integer('id').primaryKey({ autoIncrement: true }),
  name: text('name').notNull().unique(),
  role: text('role').notNull(),
  /** SHA-256 (hex) of the bearer token; the token itself is shown once and never stored. */
  tokenHash: text('token_hash').notNull().unique(),
  createdAt: integer('created_at').notNull(),
  createdBy: text('created_by').notNull(),
  /** ms; null = never expires (issue 17). */
  expiresAt: integer('expires_at'),
  /** ms; set once by POST /api/tokens/:name/revoke, a revoked token never authenticates again. */
  revokedAt: integer('revoked_at'),
  /** ms; written at most once a minute per token (route-table.ts), not on every request. */
  lastUsedAt: integer('last_used_at'),
});

/** Append-only (UPDATE and DELETE are refused by triggers in the migrations). */
export const auditLog = sqliteTable('audit_log', {
  id: integer('id').primaryKey({ autoIncrement: true }),
  at: integer('at').notNull(),
  actor: text('actor').notNull(),
  action: text('action').notNull(),
  target: text('target'),
  detail: text('detail', { mode: 'json' }).$type<Record<string, unknown>>(),
});

/**
 * Staged rollouts (SPEC §7). `snapshot` is the pure engine's RolloutSnapshot as JSON (gateway/rollout/snapshot.ts);
 * fleet/state/seq/pinset are copies of its fields for indexed queries. Written in the same transaction as the
 * rollout's changed executions.
 */
export const rollouts = sqliteTable(
  'rollouts',
  {
    id: text('id').primaryKey(),
    fleet: text('fleet').notNull(),
    pinsetId: integer('pinset_id').notNull(),
    seq: integer('seq').notNull(),
    /** RolloutState kind: DRAFT | RUNNING | PAUSED | COMPLETED | ABORTED. */
    state: text('state').notNull(),
    snapshot: text('snapshot').notNull(),
    /** Plan warnings shown at creation (JSON array of strings). */
    warnings: text('warnings', { mode: 'json' }).$type<string[]>().notNull().default(sql`'[]'`),
    /** The last gate decision of a tick ({at, decision}), for the API / dashboard. */
    lastGate: text('last_gate', { mode: 'json' }).$type<Record<string, unknown>>(),
    createdAt: integer('created_at').notNull(),
    createdBy: text('created_by').notNull(),
    updatedAt: integer('updated_at').notNull(),
  },
  (t) => [index('rollouts_fleet_state_idx').on(t.fleet, t.state), index('rollouts_state_idx').on(t.state), index('rollouts_pinset_idx').on(t.pinsetId)],
);

/** One row per (rollout, device): the engine's ExecutionRecord, its state as JSON plus the state kind indexed. */
export const rolloutExecutions = sqliteTable(
  'rollout_executions',
  {
    rolloutId: text('rollout_id').notNull(),
    deviceId: text('device_id').notNull(),
    wave: integer('wave').notNull(),
    /** ExecutionState kind (QUEUED … SUPERSEDED). */
    kind: text('kind').notNull(),
    state: text('state').notNull(),
    enrolledAt: integer('enrolled_at').notNull(),
    updatedAt: integer('updated_at').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.rolloutId, t.deviceId] }),
    // covering index for the per-wave, per-state counts of GET /api/rollouts/:id
    index('rollout_executions_counts_idx').on(t.rolloutId, t.wave, t.kind),
    index('rollout_executions_device_idx').on(t.deviceId),
  ],
);

/**
 * Offline devices per fleet and counted installed-set key (devices.counted_installed; null = not counted), kept by
 * triggers on `devices` (migration 0010): every insert, delete and change of online / fleet / counted_installed moves
 * it in the same statement, whichever code path wrote the row. Rotation readiness reads `atRiskOffline` from it: one
 * row per set, never the fleet.
 */
export const offlineInstalledCounts = sqliteTable(
  'offline_installed_counts',
  {
    fleet: text('fleet').notNull(),
    installed: text('installed').notNull(),
    n: integer('n').notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.fleet, t.installed] })],
);

/**
 * Coverage counters (SPEC §8), per fleet, host entry and pin: devices whose verified set, still installed, pins
 * it. Updated with coverageDelta in the transaction that changes a device's verified/installed set.
 */
export const coverageCounts = sqliteTable(
  'coverage_counts',
  {
    fleet: text('fleet').notNull(),
    host: text('host').notNull(),
    pin: text('pin').notNull(),
    count: integer('count').notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.fleet, t.host, t.pin] })],
);

/**
 * Devices per fleet and pin set, kept in the same transactions: kind 'installed' (key = envelope SHA-256 or
 * 'none' / 'unknown'; their sum is the fleet size, offline devices included) and kind 'verified' (key = SHA-256 of
 * the verified set still installed). Rotation readiness reads these: one row per distinct set, never the fleet.
 */
export const fleetSetCounts = sqliteTable(
  'fleet_set_counts',
  {
    fleet: text('fleet').notNull(),
    kind: text('kind').notNull(),
    key: text('key').notNull(),
    count: integer('count').notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.fleet, t.kind, t.key] })],
);

/** Pin validation telemetry (SPEC §6 reports) per fleet, host and minute (gateway receive time), in the ingest transaction. */
export const telemetryBuckets = sqliteTable(
  'telemetry_buckets',
  {
    fleet: text('fleet').notNull(),
    host: text('host').notNull(),
    /** Bucket start, unix ms (multiple of 60 000). */
    bucket: integer('bucket').notNull(),
    ok: integer('ok').notNull().default(0),
    mismatch: integer('mismatch').notNull().default(0),
    failOpen: integer('fail_open').notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.fleet, t.host, t.bucket] }), index('telemetry_buckets_fleet_bucket_idx').on(t.fleet, t.bucket)],
);

/** Recorded server key rotations (SPEC §8 rotation gate): refused unless ready, or forced with a reason. */
export const rotations = sqliteTable(
  'rotations',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    fleet: text('fleet').notNull(),
    host: text('host').notNull(),
    pin: text('pin').notNull(),
    forced: integer('forced', { mode: 'boolean' }).notNull(),
    reason: text('reason'),
    /** Readiness at the time of recording (coverage percent, target, at-risk count). */
    coverage: integer('coverage_bp').notNull(),
    target: integer('target_bp').notNull(),
    atRisk: integer('at_risk').notNull(),
    recordedAt: integer('recorded_at').notNull(),
    recordedBy: text('recorded_by').notNull(),
  },
  (t) => [index('rotations_fleet_host_idx').on(t.fleet, t.host, t.id)],
);

/** Named counters for ids that must stay unique with several writers (rollout ids `r1`, `r2`, …). */
export const idCounters = sqliteTable('id_counters', {
  name: text('name').primaryKey(),
  n: integer('n').notNull(),
});

export const schema = {
  idCounters,
  devices,
  pinsets,
  keysets,
  acks,
  pinsetAckCounts,
  reports,
  malformedCounts,
  apiTokens,
  auditLog,
  rollouts,
  rolloutExecutions,
  coverageCounts,
  fleetSetCounts,
  telemetryBuckets,
  rotations,
};

/**
 * Leadership (docs/scale.md "Replicas"): one row per single-writer role. `epoch` rises at every acquisition and every
 * fenced write checks it inside its transaction; `holder` names the process (host:pid) that leads. On SQLite the one
 * process that opens the file is the leader, and a second live process on the same file is refused at start-up.
 */
export const leaderEpochs = sqliteTable('leader_epochs', {
  role: text('role').primaryKey(),
  epoch: integer('epoch').notNull(),
  holder: text('holder'),
  acquiredAt: integer('acquired_at').notNull(),
});
