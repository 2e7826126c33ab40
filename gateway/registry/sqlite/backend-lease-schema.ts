/**
 * The external broker's backend client-id leases (issue 13, docs/scale.md "Backend connections") in the SQLite
 * schema, beside schema.ts; drizzle-kit reads both (drizzle.config.ts). The PostgreSQL twin is
 * ../postgres/backend-lease-schema.ts, same table and columns.
 */
import { integer, sqliteTable, text } from 'drizzle-orm/sqlite-core';

/** One row per slot of the pool that has ever been used (a slot without a row has no session at the broker). */
export const backendLeases = sqliteTable('backend_leases', {
  slot: integer('slot').primaryKey(),
  holder: text('holder'),
  expiresAt: integer('expires_at').notNull(),
  epoch: integer('epoch').notNull(),
  wantedBy: text('wanted_by'),
});
