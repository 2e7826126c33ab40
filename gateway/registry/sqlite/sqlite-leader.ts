import type Database from 'better-sqlite3';
import { hostname } from 'node:os';
import { DomainError } from '../../errors/domain-error';
import type { Fence, LeaderLock, LeaderLockOptions } from '../leader-lock';

interface EpochRow {
  epoch: number;
  holder: string | null;
}

/** Whether the process a holder string (host:pid) names is alive on this host (another host: assume it is). */
function holderAlive(holder: string): boolean {
  const at = holder.lastIndexOf(':');
  const host = holder.slice(0, at);
  const pid = Number(holder.slice(at + 1));
  if (host !== hostname()) return true;
  if (!Number.isInteger(pid) || pid <= 0) return false;
  if (pid === process.pid) return false; // this very process (a registry opened again): itself, not a rival
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'; // alive, owned by someone else
  }
}

/**
 * Leadership on SQLite: one process owns the file and always leads. The first acquisition records the process as
 * holder and increments the epoch; a second gateway started on the same file while the first still runs is refused
 * with an error naming it (two processes would each drive rollouts, and SQLite serialises writers per process
 * only). A holder that died (no such pid on this host) is taken over. `runs` executes on the registry's one
 * connection once no transaction is open.
 */
export class SqliteLeaderLock implements LeaderLock {
  private held = false;

  constructor(
    private readonly client: Database.Database,
    private readonly run: <R>(fn: () => R) => Promise<R>,
    private readonly file: string,
    private readonly role: string,
    private readonly options: LeaderLockOptions,
  ) {}

  tryAcquire(now: number): Promise<{ epoch: number }> {
    return this.run(() =>
      this.client.transaction(() => {
        const row = this.client.prepare<[string], EpochRow>('select epoch, holder from leader_epochs where role = ?').get(this.role);
        if (row?.holder != null && row.holder !== this.options.holder && holderAlive(row.holder)) {
          throw new Error(
            `another gateway process (${row.holder}) already uses the SQLite registry ${this.file}; one SQLite file serves one process — stop it first, or use PostgreSQL (PINGW_DATABASE_URL) for replicas`,
          );
        }
        const epoch = (row?.epoch ?? 0) + 1;
        this.client
          .prepare('insert into leader_epochs (role, epoch, holder, acquired_at) values (?, ?, ?, ?) on conflict (role) do update set epoch = excluded.epoch, holder = excluded.holder, acquired_at = excluded.acquired_at')
          .run(this.role, epoch, this.options.holder, now);
        this.held = true;
        return { epoch };
      }).immediate(),
    );
  }

  async stillHeld(): Promise<boolean> {
    return this.held;
  }

  onLost(): void {
    // one process, one file: the lock is lost only with the process
  }

  async release(): Promise<void> {
    if (!this.held) return;
    this.held = false;
    await this.run(() => this.client.prepare('update leader_epochs set holder = null where role = ? and holder = ?').run(this.role, this.options.holder)).catch(() => {});
  }
}

/** The fence inside a SQLite transaction (BEGIN IMMEDIATE already holds the file's write lock). */
export function checkFenceSqlite(client: Database.Database, fence: Fence): void {
  const row = client.prepare<[string], EpochRow>('select epoch, holder from leader_epochs where role = ?').get(fence.role);
  if (row === undefined || row.epoch !== fence.epoch) {
    throw new DomainError('E_NOT_LEADER', `this process no longer leads (epoch ${fence.epoch}; now ${row?.epoch ?? 'none'}, held by ${row?.holder ?? 'nobody'})`, {
      epoch: fence.epoch,
      current: row?.epoch ?? null,
    });
  }
}
