import type { BackendLeaseRepo, LeaseRow } from '../backend-lease-repo';
import { rows, run, type Queryable } from './pg-pool';

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
 * Backend client-id leases on PostgreSQL, shared by every replica. Each call is one statement: INSERT … ON CONFLICT
 * DO UPDATE … WHERE locks the row, so of two replicas racing for a slot exactly one gets a row back (the other's
 * WHERE then sees the winner's unexpired lease).
 */
export class PgBackendLeases implements BackendLeaseRepo {
  constructor(private readonly db: Queryable) {}

  async list(): Promise<LeaseRow[]> {
    return (await rows<Raw>(this.db, `select ${COLUMNS} from backend_leases order by slot`)).map(toRow);
  }

  async acquire(slot: number, holder: string, now: number, ttlMs: number): Promise<LeaseRow | null> {
    const [r] = await rows<Raw>(
      this.db,
      `insert into backend_leases (slot, holder, expires_at, epoch, wanted_by) values ($1, $2, $3, 1, null)
       on conflict (slot) do update set holder = excluded.holder, expires_at = excluded.expires_at, epoch = backend_leases.epoch + 1, wanted_by = null
       where backend_leases.expires_at <= $4
          or (backend_leases.holder is null and (backend_leases.wanted_by is null or backend_leases.wanted_by = $2))
       returning ${COLUMNS}`,
      [slot, holder, now + ttlMs, now],
      'backend_lease_acquire',
    );
    return r === undefined ? null : toRow(r);
  }

  async renew(holder: string, slots: readonly number[], now: number, ttlMs: number): Promise<LeaseRow[]> {
    if (slots.length === 0) return [];
    const out = await rows<Raw>(
      this.db,
      `update backend_leases set expires_at = $3 where slot = any($1::int[]) and holder = $2 and expires_at > $4 returning ${COLUMNS}`,
      [[...slots], holder, now + ttlMs, now],
      'backend_lease_renew',
    );
    return out.map(toRow).sort((a, b) => a.slot - b.slot);
  }

  async release(slot: number, holder: string, reservedUntil: number): Promise<boolean> {
    return (await run(this.db, `update backend_leases set holder = null, expires_at = $3 where slot = $1 and holder = $2`, [slot, holder, reservedUntil])) === 1;
  }

  async want(slot: number, wanter: string): Promise<boolean> {
    const n = await run(
      this.db,
      `update backend_leases set wanted_by = $2 where slot = $1 and holder is not null and holder <> $2 and (wanted_by is null or wanted_by = $2)`,
      [slot, wanter],
    );
    return n === 1;
  }
}
