import { newApiToken } from '../auth/api-tokens';
import { readSecretFile, writeSecretFile } from './secret-file';

/**
 * The admin API token lives in a 0600 file: read it, or create it on first start. Deleting the file and
 * restarting replaces the admin token (the old one stops working).
 */
export function ensureAdminToken(file: string): { token: string; generated: boolean } {
  const existing = readSecretFile(file);
  if (existing !== null && existing.length >= 16) return { token: existing, generated: false };
  const token = newApiToken();
  writeSecretFile(file, token + '\n');
  return { token, generated: true };
}
