import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Clock } from '../clock';
import type { Logger } from '../logger';
import type { BackendLeaseRepo } from '../registry/backend-lease-repo';
import { RepeatingJob } from '../repeating-job';
import type { BackendConnection } from './backend-connection';
import { decide, drain, expire, held, mayConnect, refused, renewed, type LeaseTimings, type SlotState } from './pool-lease';

export interface LeasedPoolOptions {
  leases: BackendLeaseRepo;
  clock: Clock;
  logger: Logger;
  /** Client ids are `${prefix}-${slot}`, slot in 0…poolSize−1, the same on every replica (PINGW_BROKER_POOL_SIZE). */
  poolSize: number;
  /** Slots this replica holds when the pool is split evenly (PINGW_BROKER_CLIENTS). */
  share: number;
  timings: LeaseTimings;
  /** Makes the connection of one slot; `mayConnect` gates its every (re)connect, `onTakenOver` reports a kick. */
  connection(slot: number, gate: { mayConnect: () => boolean; onTakenOver: () => void }): BackendConnection;
  /** Time allowed to a new connection's first CONNACK + SUBACK (it keeps retrying while the lease lasts). */
  connectTimeoutMs: number;
}

interface Slot {
  state: SlotState;
  conn: BackendConnection;
  timer: NodeJS.Timeout | null;
  /** The first CONNACK + SUBACK of this holding. */
  ready: Promise<void>;
}

/** A replica's name in the lease table: host, pid and a random tag, new at every start (a restart is a new holder). */
export function newHolderId(): string {
  return `${hostname()}/${process.pid}/${randomBytes(3).toString('hex')}`;
}

/**
 * The backend connections of this replica, one per leased slot of the pool (docs/scale.md "Backend connections").
 * Every `renewMs` one scan: drop slots whose lease ran out, renew the rest, take over the slots of dead replicas
 * (lease expired) and released ones, claim unused slots up to our share, ask for slots when short, hand off asked-for
 * slots beyond our share. The pure rules are ./pool-lease.ts; this class only does the I/O.
 */
export class LeasedPool {
  readonly holder = newHolderId();
  private readonly slots = new Map<number, Slot>();
  private readonly job: RepeatingJob;
  private readonly pending = new Set<Promise<unknown>>();
  private closed = false;
  private running: Promise<void> | null = null;
  /** Takeovers of another replica's slot (expired lease), for logs and tests. */
  readonly stats = { takeovers: 0, claims: 0, lost: 0, handedOff: 0 };

  constructor(private readonly o: LeasedPoolOptions) {
    this.job = new RepeatingJob(() => this.scan(), o.timings.renewMs, (err) =>
      o.logger.warn('backend lease scan failed (leases not renewed in time are dropped at their deadline)', { error: String(err) }),
    );
  }

  /** Connections of the slots we hold (draining ones excluded): where publishes to devices go. */
  connections(): BackendConnection[] {
    return [...this.slots.values()].filter((s) => s.state.kind === 'held').map((s) => s.conn);
  }

  heldSlots(): number[] {
    return [...this.slots.entries()].filter(([, s]) => s.state.kind === 'held').map(([n]) => n).sort((a, b) => a - b);
  }

  /**
   * First scan, then waits until at least one slot is connected (a replica with no slot cannot reach devices):
   * rejects with the first connection's error when none connects in time.
   */
  async start(): Promise<void> {
    const deadline = this.o.clock.now() + this.o.connectTimeoutMs;
    await this.scan();
    this.job.start();
    const first = [...this.slots.values()].map((s) => s.ready);
    if (first.length > 0) {
      await Promise.any(first).catch((err: unknown) => {
        throw err instanceof AggregateError ? (err.errors[0] as Error) : err;
      });
      return;
    }
    // the pool is held by other replicas: our share comes by hand-off (a scan or two)
    while (!this.connections().some((c) => c.connected)) {
      if (this.o.clock.now() >= deadline) {
        throw new Error(`no backend client id of the pool came free within ${this.o.connectTimeoutMs} ms (PINGW_BROKER_POOL_SIZE ${this.o.poolSize})`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** One pass over the lease table (every renewMs, and at once when the broker reports a takeover); never two at once. */
  scan(): Promise<void> {
    this.running ??= this.scanOnce().finally(() => (this.running = null));
    return this.running;
  }

  private async scanOnce(): Promise<void> {
    if (this.closed) return;
    const { leases, clock, timings, logger } = this.o;
    for (const n of [...this.slots.keys()]) this.check(n);
    const ours = [...this.slots.keys()];
    const rows = await leases.renew(this.holder, ours, clock.now(), timings.ttlMs);
    if (this.closed) return;
    const renewedSlots = new Set(rows.map((r) => r.slot));
    for (const r of rows) this.update(r.slot, (s) => renewed(s, r, timings));
    for (const n of ours) if (!renewedSlots.has(n)) this.update(n, refused);

    const table = await leases.list();
    if (this.closed) return;
    const now = clock.now();
    const d = decide({ me: this.holder, rows: table, mine: new Set(this.heldSlots()), poolSize: this.o.poolSize, share: this.o.share, now });
    const before = new Map(table.map((r) => [r.slot, r]));
    for (const n of [...d.takeOver, ...d.claim]) {
      if (this.closed) return;
      const row = await leases.acquire(n, this.holder, clock.now(), timings.ttlMs);
      if (row === null) continue; // another replica was quicker
      if (this.closed) {
        await leases.release(n, this.holder, clock.now()); // shutting down meanwhile: free at once for the survivors
        return;
      }
      const previous = before.get(n);
      if (previous === undefined) this.stats.claims++;
      else this.stats.takeovers++;
      logger.info(previous === undefined ? 'backend slot claimed' : 'backend slot taken over', {
        slot: n, epoch: row.epoch, ...(previous === undefined ? {} : { from: previous.holder ?? '(released)' }),
      });
      this.open(n, held(row, timings));
    }
    for (const n of d.want) await leases.want(n, this.holder);
    for (const n of d.handOff) this.handOff(n);
  }

  /**
   * Shutdown: every connection waits for the PUBACKs of committed messages and disconnects keeping its session,
   * then its lease is released (free at once: a survivor takes the slot and whatever its session still holds).
   */
  async close(): Promise<void> {
    this.closed = true;
    this.job.stop();
    // a scan under way is not waited for (the registry may hang): it checks `closed` after each call
    await Promise.allSettled([...this.pending]); // hand-offs under way
    await Promise.allSettled([...this.slots.keys()].map((n) => this.give(n, 'shutdown', () => this.o.clock.now())));
  }

  private open(n: number, state: SlotState): void {
    const conn = this.o.connection(n, {
      mayConnect: () => {
        const s = this.slots.get(n);
        return s !== undefined && s.conn === conn && mayConnect(s.state, this.o.clock.now());
      },
      // another connection with our id: check our lease now rather than at the next scan
      onTakenOver: () => void this.scan().catch(() => {}),
    });
    const slot: Slot = { state, conn, timer: null, ready: Promise.resolve() };
    this.slots.set(n, slot); // before start(): its connect asks the gate, which looks the slot up
    this.arm(n);
    const ready = conn.start(this.o.connectTimeoutMs);
    slot.ready = ready;
    ready.catch((err: unknown) => {
      // the lease is kept: mqtt.js keeps retrying while it lasts
      if (!this.closed) this.o.logger.warn('backend slot not connected yet', { slot: n, error: String(err) });
    });
  }

  private update(n: number, f: (s: SlotState) => SlotState): void {
    const s = this.slots.get(n);
    if (s === undefined) return;
    s.state = f(s.state);
    if (s.state.kind === 'lost') this.drop(n, s);
    else this.arm(n);
  }

  /** Applies the deadline now. */
  private check(n: number): void {
    this.update(n, (s) => expire(s, this.o.clock.now()));
  }

  /** A timer at the deadline: the connection closes on time even when a scan is slow or the registry is down. */
  private arm(n: number): void {
    const s = this.slots.get(n);
    if (s === undefined || s.state.kind === 'lost') return;
    if (s.timer !== null) clearTimeout(s.timer);
    s.timer = setTimeout(() => this.check(n), Math.max(0, s.state.deadline - this.o.clock.now()));
    s.timer.unref();
  }

  private drop(n: number, s: Slot): void {
    if (s.timer !== null) clearTimeout(s.timer);
    this.slots.delete(n);
    this.stats.lost++;
    s.conn.abort();
    this.o.logger.warn('backend slot lease lost: connection closed before another replica may take the id', {
      slot: n, why: s.state.kind === 'lost' ? s.state.why : 'unknown',
    });
  }

  private handOff(n: number): void {
    this.stats.handedOff++;
    this.o.logger.info('backend slot handed off to a replica short of its share', { slot: n });
    this.track(this.give(n, 'handoff', () => this.o.clock.now() + this.o.timings.ttlMs));
  }

  /** Drains the slot's connection, then releases its lease (reserved for the wanter until `reservedUntil`). */
  private async give(n: number, why: 'handoff' | 'shutdown', reservedUntil: () => number): Promise<void> {
    const s = this.slots.get(n);
    if (s === undefined) return;
    s.state = drain(s.state, why);
    // connected: wait for the PUBACKs of committed messages, disconnect keeping the session; else just stop trying
    if (s.conn.connected) await s.conn.close().catch(() => s.conn.abort());
    else s.conn.abort();
    if (this.slots.get(n) !== s) return; // lost meanwhile: someone else may hold it, do not release
    if (s.timer !== null) clearTimeout(s.timer);
    this.slots.delete(n);
    await this.o.leases.release(n, this.holder, reservedUntil());
  }

  private track(p: Promise<unknown>): void {
    this.pending.add(p);
    void p.finally(() => this.pending.delete(p));
  }
}
