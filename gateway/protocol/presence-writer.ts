import type { Registry } from '../registry/registry';

interface Pending {
  deviceId: string;
  online: boolean;
  at: number;
  resolve: () => void;
  reject: (err: unknown) => void;
}

/**
 * Presence writes of the device transport, batched (issue 17 "cut what is not needed"): every connection that
 * becomes ready (or goes) in one turn of the event loop is written in one transaction, on the check phase of that
 * same turn, instead of one autocommit per device. A cold start admits up to 32 connections per turn
 * (broker/tls-admission.ts), so its presence writes cost one commit per batch (scripts/profile-cold-start.ts:
 * `run` of the SQLite session was the largest gateway frame after TLS once credentials were cheap).
 *
 * SQLite only: there every statement is a commit of the one connection, and a batch is one. On PostgreSQL each write
 * goes on its own as before (autocommit on any pooled connection): a batch there would hold one connection for N
 * round trips while the acks' group commits wait for the pool (the rollout scenarios on PostgreSQL stalled with it).
 *
 * Each caller's promise settles when its batch commits, in the order the writes came, so the `online` event that
 * follows still comes after the row is committed and before the device's hello is handled: the batch is queued
 * before the next I/O is read (setImmediate), and the registry runs statements in order behind it.
 */
export class PresenceWriter {
  private pending: Pending[] = [];
  private scheduled = false;
  /** Batches committed and rows written (tests, profiling). */
  readonly stats = { batches: 0, rows: 0 };

  constructor(private readonly registry: Pick<Registry, 'transaction' | 'dialect' | 'devices'>) {}

  write(deviceId: string, online: boolean, at: number): Promise<void> {
    if (this.registry.dialect !== 'sqlite') return this.registry.devices.setOnline(deviceId, online, at);
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ deviceId, online, at, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.scheduled = false;
    const batch = this.pending;
    this.pending = [];
    // in arrival order: a device that came and went within one turn ends offline
    this.registry
      .transaction(async (tx) => {
        for (const p of batch) await tx.devices.setOnline(p.deviceId, p.online, p.at);
      })
      .then(
        () => {
          this.stats.batches += 1;
          this.stats.rows += batch.length;
          for (const p of batch) p.resolve();
        },
        (err: unknown) => {
          for (const p of batch) p.reject(err);
        },
      );
  }
}
