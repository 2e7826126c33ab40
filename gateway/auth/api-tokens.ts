import { createHash, randomBytes } from 'node:crypto';

export const ROLES = ['viewer', 'publisher', 'operator', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/** admin > operator > publisher > viewer (docs/api.md): a role may do what every lower role may. */
export function roleAtLeast(role: Role, required: Role): boolean {
  return ROLES.indexOf(role) >= ROLES.indexOf(required);
}

export function newApiToken(): string {
  return 'pgw_' + randomBytes(32).toString('base64url');
}

/** Bearer tokens are high-entropy, so a plain SHA-256 is enough to store them (never the token itself). */
export function hashApiToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}
