/**
 * The external broker's backend client-id leases (issue 13, docs/scale.md "Backend connections") in the PostgreSQL
 * schema, beside schema.ts; drizzle-kit reads both (drizzle.postgres.config.ts). The SQLite twin is
 * ../sqlite/backend-lease-schema.ts, same table and columns.
 */
import { bigint, integer, pgTable, text } from 'drizzle-orm/pg-core';

/** One row per slot of the pool that has ever been used (a slot without a row has no session at the broker). */
export const backendLeases = pgTable('backend_leases', {
  slot: integer('slot').primaryKey(),
  holder: text('holder'),
  /** Unix ms (beyond int4). */
  expiresAt: bigint('expires_at', { mode: 'number' }).notNull(),
  epoch: integer('epoch').notNull(),
  wantedBy: text('wanted_by'),
});
