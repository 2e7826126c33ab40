/**
 * Pin lifecycle tables (issue 16) of the PostgreSQL schema, beside schema.ts (kept under 300 lines); drizzle-kit reads
 * both (drizzle.postgres.config.ts). The SQLite twin is ../sqlite/lifecycle-schema.ts, same tables and columns.
 */
import { sql } from 'drizzle-orm';
import { bigint, index, integer, pgTable, text } from 'drizzle-orm/pg-core';

/** Unix milliseconds (beyond int4). */
const ms = (name: string) => bigint(name, { mode: 'number' });

/** Kill switches engaged: the kill set signed (pinset_id, seq) over the fleet's newest set (base_seq). */
export const killSwitches = pgTable(
  'kill_switches',
  {
    id: integer('id').primaryKey().generatedAlwaysAsIdentity(),
    fleet: text('fleet').notNull(),
    host: text('host').notNull(),
    mode: text('mode').notNull(),
    reason: text('reason').notNull(),
    pinsetId: integer('pinset_id').notNull(),
    seq: integer('seq').notNull(),
    baseSeq: integer('base_seq').notNull(),
    /** 'gateway' (signed here) or 'offline' (pinctl kill, uploaded). */
    source: text('source').notNull(),
    /** JSON array of the rollout ids the kill aborted. */
    supersededRollouts: text('superseded_rollouts').notNull().default(sql`'[]'`),
    createdAt: ms('created_at').notNull(),
    createdBy: text('created_by').notNull(),
  },
  (t) => [index('kill_switches_fleet_idx').on(t.fleet, t.id)],
);

/** Guided rotation plans: keys, step, and the audited history of steps (JSON). */
export const rotationPlans = pgTable(
  'rotation_plans',
  {
    id: integer('id').primaryKey().generatedAlwaysAsIdentity(),
    fleet: text('fleet').notNull(),
    host: text('host').notNull(),
    port: integer('port'),
    currentPin: text('current_pin').notNull(),
    nextPin: text('next_pin').notNull(),
    backupPin: text('backup_pin').notNull(),
    newNextPin: text('new_next_pin'),
    /** Basis points (95 % = 9500). */
    target: integer('target').notNull(),
    /** Unix seconds. */
    switchAt: bigint('switch_at', { mode: 'number' }),
    step: text('step').notNull(),
    history: text('history').notNull().default(sql`'[]'`),
    stage1PinsetId: integer('stage1_pinset_id'),
    stage1RolloutId: text('stage1_rollout_id'),
    stage2PinsetId: integer('stage2_pinset_id'),
    stage2RolloutId: text('stage2_rollout_id'),
    createdAt: ms('created_at').notNull(),
    createdBy: text('created_by').notNull(),
    updatedAt: ms('updated_at').notNull(),
  },
  (t) => [index('rotation_plans_fleet_host_idx').on(t.fleet, t.host, t.id)],
);
