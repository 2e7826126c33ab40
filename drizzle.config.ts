import { defineConfig } from 'drizzle-kit';

// `npm run db:generate` writes SQL migrations from the registry schema; the gateway runs them at start-up.
export default defineConfig({
  dialect: 'sqlite',
  schema: './gateway/db/schema.ts',
  out: './gateway/db/migrations',
});
