/**
 * The registry's part of leader election (docs/scale.md "Replicas"): a lock that at most one process holds for a
 * role, and the epoch that rises at each acquisition. gateway/leadership/ decides when to try, poll and step down;
 * the dialects decide how the lock is held (PostgreSQL: an advisory lock on a dedicated session; SQLite: the file
 * belongs to one process).
 */
export interface LeaderLock {
  /**
   * One attempt. null: another process holds the role now. Otherwise this process holds it and the role's epoch was
   * incremented (and committed) under the lock: the returned epoch is the fence of every write this term makes.
   * SQLite rejects (a clear Error) when another live process already uses the file: it can never lead.
   */
  tryAcquire(now: number): Promise<{ epoch: number } | null>;
  /** One round trip on the lock's session: false (or a rejection) = the lock is gone, step down. */
  stillHeld(): Promise<boolean>;
  /** Called once, at once, when the session that holds the lock errors or closes (PostgreSQL). */
  onLost(listener: (reason: string) => void): void;
  /** Gives the role up (unlock, close the session); safe to call twice. */
  release(): Promise<void>;
}

/** What every fenced write transaction checks, inside the transaction: the role's epoch is still this one. */
export interface Fence {
  role: string;
  epoch: number;
}

export interface LeaderLockOptions {
  /** Who asks (host:pid), stored beside the epoch for people and for the SQLite refusal. */
  holder: string;
  /**
   * PostgreSQL: a session of the lock left without a query this long is closed by the server
   * (idle_session_timeout), which frees the lock: a frozen leader (SIGSTOP, a stalled event loop) loses it.
   * The leader polls well inside it. Also bounds how long a frozen leader's open fenced transaction blocks.
   */
  stallMs: number;
}

/** The one role today: the replica that drives rollouts and the other single-writer jobs. */
export const LEADER_ROLE = 'leader';
