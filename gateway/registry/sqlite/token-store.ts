import { asc, eq } from 'drizzle-orm';
import type { RegistryDb } from './open';
import { apiTokens } from './schema';
import { ROLES, type Role } from '../../auth/api-tokens';
import type { TokenIdentity, TokenInfo } from '../repositories';

const isRole = (r: string): r is Role => (ROLES as readonly string[]).includes(r);

/** API bearer tokens, stored as SHA-256 hashes; lookups are cached in memory (tokens are few). */
export class TokenStore {
  private readonly cache = new Map<string, TokenIdentity | null>();

  constructor(private readonly db: RegistryDb) {}

  /** Inserts a token; false when the name is taken. */
  insert(name: string, role: Role, tokenHash: string, createdBy: string, at: number, expiresAt: number | null = null): boolean {
    const r = this.db.insert(apiTokens).values({ name, role, tokenHash, createdBy, createdAt: at, expiresAt }).onConflictDoNothing().run();
    this.cache.clear();
    return r.changes === 1;
  }

  /** Sets the hash of a named token, creating it if needed (the admin token file is the source of truth). */
  upsert(name: string, role: Role, tokenHash: string, at: number): void {
    const row = this.db.select({ tokenHash: apiTokens.tokenHash }).from(apiTokens).where(eq(apiTokens.name, name)).get();
    // a new hash is a rotated admin token file: it clears a revocation; a restart with the same file keeps it
    const rotated = row !== undefined && row.tokenHash !== tokenHash;
    this.db
      .insert(apiTokens)
      .values({ name, role, tokenHash, createdBy: 'gateway', createdAt: at })
      .onConflictDoUpdate({ target: apiTokens.name, set: rotated ? { tokenHash, role, revokedAt: null, expiresAt: null } : { tokenHash, role } })
      .run();
    this.cache.clear();
  }

  lookup(tokenHash: string): TokenIdentity | null {
    const hit = this.cache.get(tokenHash);
    if (hit !== undefined) return hit;
    const row = this.db.select().from(apiTokens).where(eq(apiTokens.tokenHash, tokenHash)).get();
    const identity = row && row.revokedAt === null && isRole(row.role) ? { name: row.name, role: row.role, expiresAt: row.expiresAt } : null;
    if (this.cache.size > 10_000) this.cache.clear(); // bounded: unknown tokens are cached too
    this.cache.set(tokenHash, identity);
    return identity;
  }

  list(): TokenInfo[] {
    return this.db
      .select()
      .from(apiTokens)
      .orderBy(asc(apiTokens.name))
      .all()
      .filter((r) => isRole(r.role))
      .map((r) => ({
        name: r.name,
        role: r.role as Role,
        createdAt: r.createdAt,
        createdBy: r.createdBy,
        expiresAt: r.expiresAt,
        revokedAt: r.revokedAt,
        lastUsedAt: r.lastUsedAt,
      }));
  }

  revoke(name: string, at: number): boolean {
    const row = this.db.select({ revokedAt: apiTokens.revokedAt }).from(apiTokens).where(eq(apiTokens.name, name)).get();
    if (row === undefined) return false;
    if (row.revokedAt === null) this.db.update(apiTokens).set({ revokedAt: at }).where(eq(apiTokens.name, name)).run();
    this.cache.clear(); // the revoked token stops at its next request (issue 17)
    return true;
  }

  touch(name: string, at: number): void {
    this.db.update(apiTokens).set({ lastUsedAt: at }).where(eq(apiTokens.name, name)).run();
  }
}
