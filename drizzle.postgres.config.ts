import { defineConfig } from 'drizzle-kit';

// `npm run db:generate` also writes the PostgreSQL migrations (PINGW_DATABASE_URL); the gateway runs them at start-up.
export default defineConfig({
  dialect: 'postgresql',
  schema: ['./gateway/registry/postgres/schema.ts', './gateway/registry/postgres/lifecycle-schema.ts', './gateway/registry/postgres/backend-lease-schema.ts', './gateway/registry/postgres/replica-state-schema.ts'],
  out: './gateway/registry/postgres/migrations',
});
