import { defineConfig } from 'drizzle-kit';

// `npm run db:generate` writes SQL migrations from the registry schemas (SQLite here, PostgreSQL in
// drizzle.postgres.config.ts); the gateway runs them at start-up.
export default defineConfig({
  dialect: 'sqlite',
  schema: ['./gateway/registry/sqlite/schema.ts', './gateway/registry/sqlite/lifecycle-schema.ts', './gateway/registry/sqlite/backend-lease-schema.ts', './gateway/registry/sqlite/replica-state-schema.ts'],
  out: './gateway/registry/sqlite/migrations',
});
