import { ROLES, type Role } from '../../auth/api-tokens';

const isRole = (r: string): r is Role => (ROLES as readonly string[]).includes(r);
import type { Clock } from '../../clock';
import type { AuditRepo, KeysetRepo, RotationRepo, TokenIdentity, TokenInfo, TokenRepo } from '../repositories';
import type { AuditEntry, KeysetRow, NewRotation, Page, RotationRow } from '../rows';
import { rows, run, type Queryable } from './pg-pool';

/** The small tables on PostgreSQL: signer keysets, API tokens, the audit log, recorded rotations. */

interface RawKeyset {
  version: number;
  public_keys: string;
  envelope: Buffer | null;
  created_at: number;
  created_by: string;
}
const toKeyset = (r: RawKeyset): KeysetRow => ({
  version: r.version,
  publicKeys: JSON.parse(r.public_keys) as string[],
  envelope: r.envelope,
  createdAt: r.created_at,
  createdBy: r.created_by,
});

export class PgKeysets implements KeysetRepo {
  constructor(private readonly db: Queryable) {}

  async current(): Promise<KeysetRow | undefined> {
    const [r] = await rows<RawKeyset>(this.db, 'select * from keysets order by version desc limit 1', [], 'keysets_current');
    return r === undefined ? undefined : toKeyset(r);
  }

  async insert(k: KeysetRow): Promise<void> {
    await run(this.db, 'insert into keysets (version, public_keys, envelope, created_at, created_by) values ($1, $2, $3, $4, $5)', [
      k.version,
      JSON.stringify(k.publicKeys),
      k.envelope,
      k.createdAt,
      k.createdBy,
    ]);
  }

  async newerThan(version: number): Promise<KeysetRow[]> {
    return (await rows<RawKeyset>(this.db, 'select * from keysets where version > $1 order by version', [version], 'keysets_newer')).map(toKeyset);
  }

  async list(): Promise<KeysetRow[]> {
    return (await rows<RawKeyset>(this.db, 'select * from keysets order by version')).map(toKeyset);
  }
}

/**
 * API tokens; lookups are cached per process (tokens are few). Another replica's new token is found on a miss; a
 * revocation clears this process's cache at once (another replica's cached hit lasts at most CACHE_MS).
 */
const CACHE_MS = 5_000;

interface RawToken {
  name: string;
  role: string;
  created_at: number;
  created_by: string;
  expires_at: number | null;
  revoked_at: number | null;
  last_used_at: number | null;
}

export class PgTokens implements TokenRepo {
  private readonly cache = new Map<string, { identity: TokenIdentity; until: number }>();

  constructor(private readonly db: Queryable) {}

  async insert(name: string, role: Role, tokenHash: string, createdBy: string, at: number, expiresAt: number | null = null): Promise<boolean> {
    const n = await run(
      this.db,
      'insert into api_tokens (name, role, token_hash, created_at, created_by, expires_at) values ($1, $2, $3, $4, $5, $6) on conflict do nothing',
      [name, role, tokenHash, at, createdBy, expiresAt],
    );
    this.cache.clear();
    return n === 1;
  }

  async upsert(name: string, role: Role, tokenHash: string, at: number): Promise<void> {
    // a new hash is a rotated admin token file: it clears a revocation; a restart with the same file keeps it
    await run(
      this.db,
      `insert into api_tokens (name, role, token_hash, created_at, created_by) values ($1, $2, $3, $4, 'gateway')
       on conflict (name) do update set token_hash = excluded.token_hash, role = excluded.role,
         revoked_at = case when api_tokens.token_hash = excluded.token_hash then api_tokens.revoked_at else null end,
         expires_at = case when api_tokens.token_hash = excluded.token_hash then api_tokens.expires_at else null end`,
      [name, role, tokenHash, at],
    );
    this.cache.clear();
  }

  async lookup(tokenHash: string): Promise<TokenIdentity | null> {
    const hit = this.cache.get(tokenHash);
    if (hit !== undefined && hit.until > Date.now()) return hit.identity;
    const [row] = await rows<{ name: string; role: string; expires_at: number | null }>(
      this.db,
      'select name, role, expires_at from api_tokens where token_hash = $1 and revoked_at is null',
      [tokenHash],
      'tokens_lookup',
    );
    const identity = row && isRole(row.role) ? { name: row.name, role: row.role, expiresAt: row.expires_at } : null;
    if (this.cache.size > 10_000) this.cache.clear();
    // only known tokens are cached here: a token created through another gateway replica must work at once.
    // Date.now, not the injected clock: this bounds a cache's staleness in real time, it times nothing of the domain.
    if (identity !== null) this.cache.set(tokenHash, { identity, until: Date.now() + CACHE_MS });
    else this.cache.delete(tokenHash);
    return identity;
  }

  async list(): Promise<TokenInfo[]> {
    const all = await rows<RawToken>(
      this.db,
      'select name, role, created_at, created_by, expires_at, revoked_at, last_used_at from api_tokens order by name',
      [],
      'tokens_list',
    );
    return all.flatMap((r) =>
      isRole(r.role)
        ? [{ name: r.name, role: r.role, createdAt: r.created_at, createdBy: r.created_by, expiresAt: r.expires_at, revokedAt: r.revoked_at, lastUsedAt: r.last_used_at }]
        : [],
    );
  }

  async revoke(name: string, at: number): Promise<boolean> {
    const n = await run(this.db, 'update api_tokens set revoked_at = coalesce(revoked_at, $2) where name = $1', [name, at]);
    this.cache.clear(); // the revoked token stops at its next request on this replica (issue 17)
    return n === 1;
  }

  async touch(name: string, at: number): Promise<void> {
    await run(this.db, 'update api_tokens set last_used_at = $2 where name = $1', [name, at]);
  }
}

export class PgAudit implements AuditRepo {
  constructor(
    private readonly db: Queryable,
    private readonly clock: Clock,
  ) {}

  async append(actor: string, action: string, target: string | null, detail?: Record<string, unknown>): Promise<void> {
    await run(
      this.db,
      'insert into audit_log (at, actor, action, target, detail) values ($1, $2, $3, $4, $5)',
      [this.clock.now(), actor, action, target, detail === undefined ? null : JSON.stringify(detail)],
      'audit_append',
    );
  }

  async list(limit: number, cursor?: number): Promise<Page<AuditEntry>> {
    const list = await rows<Omit<AuditEntry, 'detail'> & { detail: string | null }>(
      this.db,
      `select id, at, actor, action, target, detail from audit_log ${cursor === undefined ? '' : 'where id < $2'} order by id desc limit $1`,
      cursor === undefined ? [limit + 1] : [limit + 1, cursor],
    );
    const items = list.slice(0, limit).map((e) => ({ ...e, detail: e.detail === null ? null : (JSON.parse(e.detail) as Record<string, unknown>) }));
    const last = items[items.length - 1];
    return { items, nextCursor: list.length > limit && last ? String(last.id) : null };
  }
}

const ROTATION_COLUMNS = `id, fleet, host, pin, forced, reason, coverage_bp as coverage, target_bp as target, at_risk as "atRisk",
  recorded_at as "recordedAt", recorded_by as "recordedBy"`;

export class PgRotations implements RotationRepo {
  constructor(private readonly db: Queryable) {}

  async insert(r: NewRotation): Promise<RotationRow> {
    const [row] = await rows<RotationRow>(
      this.db,
      `insert into rotations (fleet, host, pin, forced, reason, coverage_bp, target_bp, at_risk, recorded_at, recorded_by)
       values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) returning ${ROTATION_COLUMNS}`,
      [r.fleet, r.host, r.pin, r.forced, r.reason, r.coverage, r.target, r.atRisk, r.recordedAt, r.recordedBy],
    );
    if (row === undefined) throw new Error('rotation insert returned nothing');
    return row;
  }

  async list(filter: { fleet?: string; host?: string }, limit: number): Promise<RotationRow[]> {
    const where: string[] = [];
    const args: unknown[] = [];
    if (filter.fleet !== undefined) where.push(`fleet = $${args.push(filter.fleet)}`);
    if (filter.host !== undefined) where.push(`host = $${args.push(filter.host)}`);
    return rows<RotationRow>(
      this.db,
      `select ${ROTATION_COLUMNS} from rotations ${where.length > 0 ? `where ${where.join(' and ')}` : ''} order by id desc limit $${args.push(limit)}`,
      args,
    );
  }
}
