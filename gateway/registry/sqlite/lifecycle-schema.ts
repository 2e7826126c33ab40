/**
 * Pin lifecycle tables (issue 16) of the SQLite schema, beside schema.ts (kept under 300 lines); drizzle-kit reads
 * both (drizzle.config.ts). The PostgreSQL twin is ../postgres/lifecycle-schema.ts, same tables and columns.
 */
import { sql } from 'drizzle-orm';
import { index, integer, sqliteTable, text } from 'drizzle-orm/sqlite-core';

/** Kill switches engaged: the kill set signed (pinset_id, seq) over the fleet's newest set (base_seq). */
export const killSwitches = sqliteTable(
  'kill_switches',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
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
    createdAt: integer('created_at').notNull(),
    createdBy: text('created_by').notNull(),
  },
  (t) => [index('kill_switches_fleet_idx').on(t.fleet, t.id)],
);

/** Guided rotation plans: keys, step, and the audited history of steps (JSON). */
export const rotationPlans = sqliteTable(
  'rotation_plans',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
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
    switchAt: integer('switch_at'),
    step: text('step').notNull(),
    history: text('history').notNull().default(sql`'[]'`),
    stage1PinsetId: integer('stage1_pinset_id'),
    stage1RolloutId: text('stage1_rollout_id'),
    stage2PinsetId: integer('stage2_pinset_id'),
    stage2RolloutId: text('stage2_rollout_id'),
    createdAt: integer('created_at').notNull(),
    createdBy: text('created_by').notNull(),
    updatedAt: integer('updated_at').notNull(),
  },
  (t) => [index('rotation_plans_fleet_host_idx').on(t.fleet, t.host, t.id)],
);
