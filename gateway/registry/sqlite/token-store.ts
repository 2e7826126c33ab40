import { eq } from 'drizzle-orm';
import type { RegistryDb } from './open';
import { apiTokens } from './schema';
import { ROLES, type Role } from '../../auth/api-tokens';
import type { TokenIdentity } from '../repositories';

/** API bearer tokens, stored as SHA-256 hashes; lookups are cached in memory (tokens are few). */
export class TokenStore {
  private readonly cache = new Map<string, TokenIdentity | null>();

  constructor(private readonly db: RegistryDb) {}

  /** Inserts a token; false when the name is taken. */
  insert(name: string, role: Role, tokenHash: string, createdBy: string, at: number): boolean {
    const r = this.db.insert(apiTokens).values({ name, role, tokenHash, createdBy, createdAt: at }).onConflictDoNothing().run();
    this.cache.clear();
    return r.changes === 1;
  }

  /** Sets the hash of a named token, creating it if needed (the admin token file is the source of truth). */
  upsert(name: string, role: Role, tokenHash: string, at: number): void {
    this.db
      .insert(apiTokens)
      .values({ name, role, tokenHash, createdBy: 'gateway', createdAt: at })
      .onConflictDoUpdate({ target: apiTokens.name, set: { tokenHash, role } })
      .run();
    this.cache.clear();
  }

  lookup(tokenHash: string): TokenIdentity | null {
    const hit = this.cache.get(tokenHash);
    if (hit !== undefined) return hit;
    const row = this.db.select().from(apiTokens).where(eq(apiTokens.tokenHash, tokenHash)).get();
    const identity = row && (ROLES as readonly string[]).includes(row.role) ? { name: row.name, role: row.role as Role } : null;
    if (this.cache.size > 10_000) this.cache.clear(); // bounded: unknown tokens are cached too
    this.cache.set(tokenHash, identity);
    return identity;
  }
}
