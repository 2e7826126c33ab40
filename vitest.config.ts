import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'test/**/*.test.tsx'],
    // End-to-end tests start real brokers and processes: give them room, but never time a result here
    // (speed goals live in bench/).
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
