/**
 * State that used to live in one replica's memory (issue 13, docs/scale.md "Replicas"): the drift/CT watches'
 * findings and the webhook outbox, in the PostgreSQL schema beside schema.ts; drizzle-kit reads both
 * (drizzle.postgres.config.ts). The SQLite twin is ../sqlite/replica-state-schema.ts, same tables and columns.
 */
import { sql } from 'drizzle-orm';
import { bigint, index, integer, pgTable, text, uniqueIndex } from 'drizzle-orm/pg-core';

/** Unix milliseconds (beyond int4). */
const ms = (name: string) => bigint(name, { mode: 'number' });

/**
 * One row per finding: open while `resolved_at` is null. At most one open row per key (the dedupe key a watch run
 * names its problem with), so a new leader's first run refreshes the open rows instead of raising them again.
 */
export const findings = pgTable(
  'findings',
  {
    id: integer('id').primaryKey().generatedAlwaysAsIdentity(),
    key: text('key').notNull(),
    source: text('source').notNull(),
    kind: text('kind').notNull(),
    severity: text('severity').notNull(),
    fleet: text('fleet'),
    host: text('host').notNull(),
    summary: text('summary').notNull(),
    detail: text('detail').notNull(),
    firstSeenAt: ms('first_seen_at').notNull(),
    lastSeenAt: ms('last_seen_at').notNull(),
    resolvedAt: ms('resolved_at'),
    acknowledgedAt: ms('acknowledged_at'),
    acknowledgedBy: text('acknowledged_by'),
  },
  (t) => [
    uniqueIndex('findings_open_key_uq').on(t.key).where(sql`resolved_at is null`),
    index('findings_resolved_idx').on(t.resolvedAt),
  ],
);

/** The last run of each watch (drift, ct) as the API answers it (`lastRuns`), whichever replica ran it. */
export const watchRuns = pgTable('watch_runs', {
  source: text('source').primaryKey(),
  run: text('run').notNull(),
  endedAt: ms('ended_at').notNull(),
});

/**
 * The CT watch's progress per log: verified tree size and root, the Merkle frontier and the certificates kept for
 * our names (JSON), so a new leader continues each log where the last one stopped and every replica classifies
 * mismatches with the same certificates.
 */
export const ctLogStates = pgTable('ct_log_states', {
  log: text('log').primaryKey(),
  treeSize: ms('tree_size').notNull(),
  root: text('root').notNull(),
  frontier: text('frontier').notNull(),
  certificates: text('certificates').notNull(),
  updatedAt: ms('updated_at').notNull(),
});

/**
 * Webhook deliveries not yet answered 2xx: written when the event happens, claimed by a replica's delivery worker
 * with a lease (FOR UPDATE SKIP LOCKED), deleted on success, moved to webhook_dead_letters after the last attempt.
 */
export const webhookOutbox = pgTable(
  'webhook_outbox',
  {
    id: integer('id').primaryKey().generatedAlwaysAsIdentity(),
    deliveryId: text('delivery_id').notNull(),
    webhookId: integer('webhook_id').notNull(),
    eventType: text('event_type').notNull(),
    payload: text('payload').notNull(),
    attempts: integer('attempts').notNull().default(0),
    nextAt: ms('next_at').notNull(),
    lastError: text('last_error').notNull().default(''),
    leaseHolder: text('lease_holder'),
    leaseUntil: ms('lease_until').notNull().default(0),
    createdAt: ms('created_at').notNull(),
  },
  (t) => [uniqueIndex('webhook_outbox_delivery_uq').on(t.deliveryId), index('webhook_outbox_due_idx').on(t.nextAt)],
);
