import type { Clock } from '../../clock';
import type { Registry } from '../registry';

export function openPostgresRegistry(_options: { url: string; readUrl: string | null; poolSize: number }, _clock: Clock): Promise<Registry> {
  return Promise.reject(new Error('PostgreSQL registry: not implemented yet'));
}
