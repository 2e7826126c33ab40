import type { Clock } from '../clock';
import type { Registry } from './registry';
import { openSqliteRegistry } from './sqlite/sqlite-registry';

export interface RegistryOptions {
  /** The SQLite file (the embedded default, used when `url` is null). */
  file: string;
  /** postgres://… of the primary, or null. */
  url: string | null;
  /** postgres://… of a streaming replica for the reads that tolerate lag, or null (they go to the primary). */
  readUrl: string | null;
  /** Connections per PostgreSQL pool. */
  poolSize: number;
}

/** Opens the configured registry and brings its schema up to date (committed migrations of its dialect). */
export async function openRegistry(options: RegistryOptions, clock: Clock): Promise<Registry> {
  if (options.url === null) return openSqliteRegistry(options.file, clock);
  const { openPostgresRegistry } = await import('./postgres/postgres-registry');
  return openPostgresRegistry({ url: options.url, readUrl: options.readUrl, poolSize: options.poolSize }, clock);
}
