import type { LeaseRow } from '../backend-lease-repo';
import type { RegistryDb } from './open';

interface Raw {
  slot: number;
  holder: string | null;
  expires_at: number;
  epoch: number;
  wanted_by: string | null;
}
const toRow = (r: Raw): LeaseRow => ({ slot: r.slot, holder: r.holder, expiresAt: r.expires_at, epoch: r.epoch, wantedBy: r.wanted_by });
const COLUMNS = 'slot, holder, expires_at, epoch, wanted_by';

/**
 * Backend client-id leases on SQLite (one file, one gateway process in practice: the contract is the same as on
 * PostgreSQL, where replicas race). Each call is one statement; an upsert with a WHERE decides a race atomically.
 */
export class BackendLeaseStore {
  private readonly acquireStmt;
  private readonly renewStmt;
  private readonly releaseStmt;
  private readonly wantStmt;
  private readonly listStmt;

  constructor(db: RegistryDb) {
    const c = db.$client;
    this.listStmt = c.prepare<[], Raw>(`select ${COLUMNS} from backend_leases order by slot`);
    // unused → insert; released and not reserved for someone else; or expired → take it, bumping the epoch
    this.acquireStmt = c.prepare<{ slot: number; holder: string; now: number; until: number }, Raw>(
      `insert into backend_leases (slot, holder, expires_at, epoch, wanted_by) values (@slot, @holder, @until, 1, null)
       on conflict (slot) do update set holder = excluded.holder, expires_at = excluded.expires_at, epoch = backend_leases.epoch + 1, wanted_by = null
       where backend_leases.expires_at <= @now
          or (backend_leases.holder is null and (backend_leases.wanted_by is null or backend_leases.wanted_by = @holder))
       returning ${COLUMNS}`,
    );
    this.renewStmt = c.prepare<{ slot: number; holder: string; now: number; until: number }, Raw>(
      `update backend_leases set expires_at = @until where slot = @slot and holder = @holder and expires_at > @now returning ${COLUMNS}`,
    );
    this.releaseStmt = c.prepare<{ slot: number; holder: string; until: number }>(
      `update backend_leases set holder = null, expires_at = @until where slot = @slot and holder = @holder`,
    );
    this.wantStmt = c.prepare<{ slot: number; wanter: string }>(
      `update backend_leases set wanted_by = @wanter
       where slot = @slot and holder is not null and holder <> @wanter and (wanted_by is null or wanted_by = @wanter)`,
    );
  }

  list(): LeaseRow[] {
    return this.listStmt.all().map(toRow);
  }

  acquire(slot: number, holder: string, now: number, ttlMs: number): LeaseRow | null {
    const r = this.acquireStmt.get({ slot, holder, now, until: now + ttlMs });
    return r === undefined ? null : toRow(r);
  }

  renew(holder: string, slots: readonly number[], now: number, ttlMs: number): LeaseRow[] {
    const out: LeaseRow[] = [];
    for (const slot of slots) {
      const r = this.renewStmt.get({ slot, holder, now, until: now + ttlMs });
      if (r !== undefined) out.push(toRow(r));
    }
    return out;
  }

  release(slot: number, holder: string, reservedUntil: number): boolean {
    return this.releaseStmt.run({ slot, holder, until: reservedUntil }).changes === 1;
  }

  want(slot: number, wanter: string): boolean {
    return this.wantStmt.run({ slot, wanter }).changes === 1;
  }
}
