import pg from 'pg';
import { DomainError } from '../../errors/domain-error';
import type { Fence, LeaderLock, LeaderLockOptions } from '../leader-lock';
import { rows, type Queryable } from './pg-pool';

/** First key of the two-int advisory locks of leadership ('ping'); the migration lock uses the one-bigint form. */
const LOCK_SPACE = 0x70696e67;

/** The role's second key: a small stable hash of its name (one role today: 'leader'). */
export function roleKey(role: string): number {
  let h = 0;
  for (const c of role) h = (Math.imul(h, 31) + c.charCodeAt(0)) | 0;
  return h;
}

/**
 * Leadership on PostgreSQL: pg_try_advisory_lock on a session of its own (never a pooled connection: the lock
 * belongs to the session, and a pooled connection would carry it to whichever query next borrows it). The server
 * frees the lock when the session ends: the process died (its socket closed: at once), or it stopped sending
 * queries for `stallMs` (idle_session_timeout, PostgreSQL ≥ 14: a SIGSTOPped or stalled leader). The epoch row is
 * incremented on the same session while the lock is held.
 */
export class PgLeaderLock implements LeaderLock {
  private client: pg.Client | null = null;
  private lostListeners: ((reason: string) => void)[] = [];
  private held = false;
  private released = false;

  constructor(
    private readonly url: string,
    private readonly role: string,
    private readonly options: LeaderLockOptions,
  ) {}

  async tryAcquire(now: number): Promise<{ epoch: number } | null> {
    if (this.released) throw new Error('leader lock released');
    const client = this.client ?? (await this.connect());
    const got = await client.query<{ ok: boolean }>('select pg_try_advisory_lock($1, $2) as ok', [LOCK_SPACE, roleKey(this.role)]);
    if (got.rows[0]?.ok !== true) return null;
    this.held = true;
    // under the lock: no other process increments it now; a frozen ex-leader's fenced transaction still holding
    // the row FOR SHARE delays this until it ends (at most stallMs, idle_in_transaction_session_timeout)
    const r = await client.query<{ epoch: string }>(
      `insert into leader_epochs (role, epoch, holder, acquired_at) values ($1, 1, $2, $3)
       on conflict (role) do update set epoch = leader_epochs.epoch + 1, holder = excluded.holder, acquired_at = excluded.acquired_at
       returning epoch`,
      [this.role, this.options.holder, now],
    );
    return { epoch: Number(r.rows[0]?.epoch) };
  }

  async stillHeld(): Promise<boolean> {
    const client = this.client;
    if (client === null || !this.held) return false;
    const r = await client.query<{ n: string }>(
      `select count(*) as n from pg_locks where locktype = 'advisory' and pid = pg_backend_pid() and classid = $1 and objid = $2 and objsubid = 2 and granted`,
      [LOCK_SPACE >>> 0, roleKey(this.role) >>> 0],
    );
    return Number(r.rows[0]?.n) > 0;
  }

  onLost(listener: (reason: string) => void): void {
    this.lostListeners.push(listener);
  }

  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    const client = this.client;
    this.client = null;
    if (client === null) return;
    try {
      if (this.held) await client.query('select pg_advisory_unlock($1, $2)', [LOCK_SPACE, roleKey(this.role)]);
    } catch {
      // the session is gone already: so is the lock
    }
    this.held = false;
    await client.end().catch(() => {});
  }

  private async connect(): Promise<pg.Client> {
    const client = new pg.Client({ connectionString: this.url, application_name: `pin-update-gateway (leader lock ${this.options.holder})`.slice(0, 63) });
    let lost = false;
    const lose = (reason: string) => {
      if (lost || this.released) return;
      lost = true;
      const wasHeld = this.held;
      this.held = false;
      if (this.client === client) this.client = null;
      client.end().catch(() => {});
      if (wasHeld) for (const l of this.lostListeners) l(reason);
    };
    client.on('error', (err) => lose(`leader lock session failed: ${err.message}`));
    client.on('end', () => lose('leader lock session closed'));
    await client.connect();
    // the server closes this session (and frees the lock) when it stays quiet longer than stallMs
    await client.query(`select set_config('idle_session_timeout', $1, false)`, [`${Math.max(1, Math.round(this.options.stallMs))}ms`]);
    this.client = client;
    return client;
  }
}

/**
 * The fence of a leader-only write, first statement of its transaction: the role's row is read FOR SHARE (so an
 * acquisition's increment waits for this transaction, and this one sees any increment committed before it), and a
 * transaction left open by a frozen process is ended by the server after stallMs, freeing the row.
 */
export async function checkFencePg(db: Queryable, fence: Fence, stallMs: number): Promise<void> {
  await rows(db, `select set_config('idle_in_transaction_session_timeout', $1, true)`, [`${Math.max(1, Math.round(stallMs))}ms`]);
  const r = await rows<{ epoch: number; holder: string | null }>(db, 'select epoch, holder from leader_epochs where role = $1 for share', [fence.role], 'fence');
  const current = r[0];
  if (current === undefined || Number(current.epoch) !== fence.epoch) {
    throw new DomainError('E_NOT_LEADER', `this replica no longer leads (epoch ${fence.epoch}; now ${current?.epoch ?? 'none'}, held by ${current?.holder ?? 'nobody'})`, {
      epoch: fence.epoch,
      current: current?.epoch ?? null,
    });
  }
}
