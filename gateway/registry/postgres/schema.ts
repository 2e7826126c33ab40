/**
 * The registry's PostgreSQL schema (drizzle-orm pg-core): the same tables and column names as the SQLite schema
 * (../sqlite/schema.ts), with PostgreSQL types: times in unix ms are bigint, flags are boolean, envelopes bytea,
 * ids identity columns (safe with several writers). JSON documents stay text, as on SQLite: the gateway parses
 * them, the database never looks inside. Migrations: `npm run db:generate` (drizzle.postgres.config.ts) into
 * ./migrations, run at start-up; the append-only rule of the audit log is a hand-written migration (a trigger).
 */
import { bigint, boolean, customType, index, integer, pgTable, primaryKey, text, uniqueIndex } from 'drizzle-orm/pg-core';

const bytea = customType<{ data: Buffer; driverData: Buffer }>({ dataType: () => 'bytea' });
/** Unix milliseconds (beyond int4). */
const ms = (name: string) => bigint(name, { mode: 'number' });

export const devices = pgTable(
  'devices',
  {
    id: text('id').primaryKey(),
    fleet: text('fleet').notNull(),
    deviceClass: text('device_class').notNull(),
    labels: text('labels').notNull().default('[]'),
    firmware: text('firmware'),
    credentialHash: text('credential_hash').notNull(),
    createdAt: ms('created_at').notNull(),
    lastSeen: ms('last_seen'),
    online: boolean('online').notNull().default(false),
    installedSeq: integer('installed_seq').notNull().default(0),
    installedSha256: text('installed_sha256'),
    verifiedSeq: integer('verified_seq').notNull().default(0),
    verifiedSha256: text('verified_sha256'),
    keysetVersion: integer('keyset_version').notNull().default(0),
    assignedPinSetId: integer('assigned_pinset_id'),
    lastDeliveredAt: ms('last_delivered_at'),
    flaggedReason: text('flagged_reason'),
    flaggedAt: ms('flagged_at'),
    flagCount: integer('flag_count').notNull().default(0),
    decommissioned: boolean('decommissioned').notNull().default(false),
    countedInstalled: text('counted_installed'),
    countedVerified: text('counted_verified'),
  },
  (t) => [
    index('devices_fleet_idx').on(t.fleet, t.id),
    index('devices_fleet_seq_idx').on(t.fleet, t.installedSeq),
    index('devices_fleet_counted_idx').on(t.fleet, t.countedInstalled, t.id),
  ],
);

export const pinsets = pgTable(
  'pinsets',
  {
    id: integer('id').primaryKey().generatedAlwaysAsIdentity(),
    fleet: text('fleet').notNull(),
    seq: integer('seq').notNull(),
    envelope: bytea('envelope').notNull(),
    sha256: text('sha256').notNull(),
    json: text('json').notNull(),
    keysetVersion: integer('keyset_version').notNull(),
    notAfter: bigint('not_after', { mode: 'number' }).notNull(),
    source: text('source').notNull(),
    createdAt: ms('created_at').notNull(),
    createdBy: text('created_by').notNull(),
    releasedAt: ms('released_at'),
  },
  (t) => [uniqueIndex('pinsets_fleet_seq_uq').on(t.fleet, t.seq), uniqueIndex('pinsets_sha256_uq').on(t.sha256)],
);

export const keysets = pgTable('keysets', {
  version: integer('version').primaryKey(),
  publicKeys: text('public_keys').notNull(),
  envelope: bytea('envelope'),
  createdAt: ms('created_at').notNull(),
  createdBy: text('created_by').notNull(),
});

export const acks = pgTable(
  'acks',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    deviceId: text('device_id').notNull(),
    sha256: text('sha256').notNull(),
    seq: integer('seq').notNull(),
    status: text('status').notNull(),
    code: text('code'),
    pinsetId: integer('pinset_id'),
    receivedAt: ms('received_at').notNull(),
  },
  // (no index by pin set: per-set counts are kept in pinset_ack_counts; every write of an ack pays for each index)
  (t) => [uniqueIndex('acks_device_sha_status_uq').on(t.deviceId, t.sha256, t.status)],
);

export const pinsetAckCounts = pgTable(
  'pinset_ack_counts',
  {
    pinsetId: integer('pinset_id').notNull(),
    status: text('status').notNull(),
    count: bigint('count', { mode: 'number' }).notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.pinsetId, t.status] })],
);

export const reports = pgTable(
  'reports',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    deviceId: text('device_id').notNull(),
    host: text('host').notNull(),
    port: integer('port').notNull(),
    result: text('result').notNull(),
    servedPins: text('served_pins').notNull(),
    installedSeq: integer('installed_seq').notNull(),
    deviceTime: bigint('device_time', { mode: 'number' }).notNull(),
    receivedAt: ms('received_at').notNull(),
  },
  (t) => [
    uniqueIndex('reports_device_host_time_uq').on(t.deviceId, t.host, t.port, t.deviceTime),
    index('reports_host_time_idx').on(t.host, t.receivedAt),
    index('reports_device_idx').on(t.deviceId, t.id),
  ],
);

export const malformedCounts = pgTable(
  'malformed_counts',
  {
    deviceId: text('device_id').notNull(),
    kind: text('kind').notNull(),
    code: text('code').notNull(),
    count: bigint('count', { mode: 'number' }).notNull().default(0),
    lastAt: ms('last_at').notNull(),
    lastDetail: text('last_detail'),
  },
  (t) => [primaryKey({ columns: [t.deviceId, t.kind, t.code] })],
);

export const apiTokens = pgTable('api_tokens', {
  id: integer('id').primaryKey().generatedAlwaysAsIdentity(),
  name: text('name').notNull().unique(),
  role: text('role').notNull(),
  tokenHash: text('token_hash').notNull().unique(),
  createdAt: ms('created_at').notNull(),
  createdBy: text('created_by').notNull(),
  /** null = never expires (issue 17). */
  expiresAt: ms('expires_at'),
  revokedAt: ms('revoked_at'),
  /** written at most once a minute per token (route-table.ts). */
  lastUsedAt: ms('last_used_at'),
});

/** Append-only: a trigger (migrations/0001_audit_append_only.sql) refuses UPDATE, DELETE and TRUNCATE. */
export const auditLog = pgTable('audit_log', {
  id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
  at: ms('at').notNull(),
  actor: text('actor').notNull(),
  action: text('action').notNull(),
  target: text('target'),
  detail: text('detail'),
});

export const rollouts = pgTable(
  'rollouts',
  {
    id: text('id').primaryKey(),
    fleet: text('fleet').notNull(),
    pinsetId: integer('pinset_id').notNull(),
    seq: integer('seq').notNull(),
    state: text('state').notNull(),
    snapshot: text('snapshot').notNull(),
    warnings: text('warnings').notNull().default('[]'),
    lastGate: text('last_gate'),
    createdAt: ms('created_at').notNull(),
    createdBy: text('created_by').notNull(),
    updatedAt: ms('updated_at').notNull(),
  },
  (t) => [index('rollouts_fleet_state_idx').on(t.fleet, t.state), index('rollouts_state_idx').on(t.state), index('rollouts_pinset_idx').on(t.pinsetId)],
);

export const rolloutExecutions = pgTable(
  'rollout_executions',
  {
    rolloutId: text('rollout_id').notNull(),
    deviceId: text('device_id').notNull(),
    wave: integer('wave').notNull(),
    kind: text('kind').notNull(),
    state: text('state').notNull(),
    enrolledAt: ms('enrolled_at').notNull(),
    updatedAt: ms('updated_at').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.rolloutId, t.deviceId] }),
    index('rollout_executions_counts_idx').on(t.rolloutId, t.wave, t.kind),
    index('rollout_executions_device_idx').on(t.deviceId),
  ],
);

/**
 * Offline devices per fleet and counted installed-set key (devices.counted_installed; null = not counted), kept by a
 * trigger on `devices` (migration 0009): every insert, delete and change of online / fleet / counted_installed moves
 * it in the same statement, whichever code path wrote the row. Rotation readiness reads `atRiskOffline` from it.
 */
export const offlineInstalledCounts = pgTable(
  'offline_installed_counts',
  {
    fleet: text('fleet').notNull(),
    installed: text('installed').notNull(),
    n: bigint('n', { mode: 'number' }).notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.fleet, t.installed] })],
);

export const coverageCounts = pgTable(
  'coverage_counts',
  {
    fleet: text('fleet').notNull(),
    host: text('host').notNull(),
    pin: text('pin').notNull(),
    count: bigint('count', { mode: 'number' }).notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.fleet, t.host, t.pin] })],
);

export const fleetSetCounts = pgTable(
  'fleet_set_counts',
  {
    fleet: text('fleet').notNull(),
    kind: text('kind').notNull(),
    key: text('key').notNull(),
    count: bigint('count', { mode: 'number' }).notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.fleet, t.kind, t.key] })],
);

export const telemetryBuckets = pgTable(
  'telemetry_buckets',
  {
    fleet: text('fleet').notNull(),
    host: text('host').notNull(),
    bucket: ms('bucket').notNull(),
    ok: bigint('ok', { mode: 'number' }).notNull().default(0),
    mismatch: bigint('mismatch', { mode: 'number' }).notNull().default(0),
    failOpen: bigint('fail_open', { mode: 'number' }).notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.fleet, t.host, t.bucket] }), index('telemetry_buckets_fleet_bucket_idx').on(t.fleet, t.bucket)],
);

export const rotations = pgTable(
  'rotations',
  {
    id: integer('id').primaryKey().generatedAlwaysAsIdentity(),
    fleet: text('fleet').notNull(),
    host: text('host').notNull(),
    pin: text('pin').notNull(),
    forced: boolean('forced').notNull(),
    reason: text('reason'),
    coverage: integer('coverage_bp').notNull(),
    target: integer('target_bp').notNull(),
    atRisk: integer('at_risk').notNull(),
    recordedAt: ms('recorded_at').notNull(),
    recordedBy: text('recorded_by').notNull(),
  },
  (t) => [index('rotations_fleet_host_idx').on(t.fleet, t.host, t.id)],
);

/** Named counters for ids that must stay unique with several writers (rollout ids `r1`, `r2`, …). */
export const idCounters = pgTable('id_counters', {
  name: text('name').primaryKey(),
  n: bigint('n', { mode: 'number' }).notNull(),
});

/**
 * Leadership (docs/scale.md "Replicas"): one row per single-writer role. `epoch` rises at every acquisition (made
 * while holding the role's advisory lock) and every fenced write checks it inside its transaction (SELECT … FOR
 * SHARE), so a frozen ex-leader's write is refused once another replica took over.
 */
export const leaderEpochs = pgTable('leader_epochs', {
  role: text('role').primaryKey(),
  epoch: bigint('epoch', { mode: 'number' }).notNull(),
  holder: text('holder'),
  acquiredAt: ms('acquired_at').notNull(),
});
