/**
 * Leases on the fixed pool of backend client ids (docs/scale.md "Backend connections"): pure state and decisions,
 * no I/O and no timers, so every rule is tested on fake time (test/transport/pool-lease.test.ts). The I/O is in
 * ./leased-pool.ts.
 *
 * Why leases: Mosquitto never hands a dead member's unacknowledged shared-subscription message to another member
 * (docs/library-notes.md "Scale-out parts"); it waits in that client id's session. So every client id of the pool
 * that has a session must be held by a live replica, which connects with that id and clean=false to receive what
 * waits there. A lease in the registry says which replica may hold which id, until when.
 */
import type { LeaseRow } from '../registry/backend-lease-repo';

export type { LeaseRow };

export interface LeaseTimings {
  /** Lease length: a dead replica's slots are taken over at most this long after its last renewal. */
  ttlMs: number;
  /** Renewal and takeover scan period (ttl/4 by default: three renewals may fail before the lease is lost). */
  renewMs: number;
  /**
   * The holder stops using a slot this long before the lease's end, so its connection is closed before anyone may
   * take the slot, even with clocks that disagree by less than this (NTP keeps them within milliseconds).
   */
  marginMs: number;
}

export function defaultTimings(ttlMs: number): LeaseTimings {
  return { ttlMs, renewMs: Math.max(50, Math.floor(ttlMs / 4)), marginMs: Math.max(50, Math.floor(ttlMs / 5)) };
}

/**
 * A slot as this replica sees it.
 * - `held`: ours until `deadline` (= expiresAt − margin); the connection may be (re)opened only in this state.
 * - `draining`: ours, but being given away (hand-off to a replica that asked, or shutdown): the connection waits
 *   for the PUBACKs of committed messages, disconnects keeping the session, then the lease is released.
 * - `lost`: the deadline passed without a renewal, or the registry says someone else holds it: the connection is
 *   closed at once and never reopened; in-flight commits may still land (the handlers are idempotent) but their
 *   PUBACKs are dropped, and the new holder receives those messages again from the session.
 */
export type SlotState =
  | { kind: 'held'; epoch: number; deadline: number }
  | { kind: 'draining'; epoch: number; deadline: number; why: 'handoff' | 'shutdown' }
  | { kind: 'lost'; epoch: number; why: 'expired' | 'taken' };

/** A lease just acquired or renewed (the row the registry returned). */
export function held(row: LeaseRow, t: LeaseTimings): SlotState {
  return { kind: 'held', epoch: row.epoch, deadline: row.expiresAt - t.marginMs };
}

/** The registry renewed the lease: a later deadline (a draining slot stays draining). */
export function renewed(s: SlotState, row: LeaseRow, t: LeaseTimings): SlotState {
  if (s.kind === 'lost' || row.epoch !== s.epoch) return s;
  return { ...s, deadline: row.expiresAt - t.marginMs };
}

/** The registry refused the renewal: the lease is someone else's now, or expired there. */
export function refused(s: SlotState): SlotState {
  return s.kind === 'lost' ? s : { kind: 'lost', epoch: s.epoch, why: 'taken' };
}

/** Time passes: a lease not renewed in time is lost (checked before every (re)connect and on a timer). */
export function expire(s: SlotState, now: number): SlotState {
  if (s.kind === 'lost' || now < s.deadline) return s;
  return { kind: 'lost', epoch: s.epoch, why: 'expired' };
}

export function drain(s: SlotState, why: 'handoff' | 'shutdown'): SlotState {
  return s.kind === 'held' ? { ...s, kind: 'draining', why } : s;
}

/** May the connection of this slot be open (or be opened) at `now`? */
export function mayConnect(s: SlotState, now: number): boolean {
  return s.kind === 'held' && now < s.deadline;
}

/** What one scan of the lease table decides for replica `me`. */
export interface ScanDecision {
  /** Slots whose lease ran out or was released: a session may hold messages, so take them whatever our share. */
  takeOver: number[];
  /** Slots nobody has used yet, taken while we hold fewer than our share. */
  claim: number[];
  /** Slots to ask their holder for (rebalancing: we hold fewer than our share and nothing is free). */
  want: number[];
  /** Our slots another replica asked for, given away because we hold more than our share. */
  handOff: number[];
}

export interface ScanInput {
  me: string;
  /** Every row of the lease table. */
  rows: readonly LeaseRow[];
  /** Slots this replica holds now and keeps (state `held`; draining ones are on their way out). */
  mine: ReadonlySet<number>;
  poolSize: number;
  /** This replica's share (PINGW_BROKER_CLIENTS). */
  share: number;
  now: number;
}

/**
 * Decides one scan. Order of preference: orphaned sessions first (released or expired rows, taken by whoever sees
 * them: their messages are waiting), then unused slots up to our share, then hand-off requests. A row reserved for
 * another replica's hand-off (released with wanted_by set, reservation not over) is left to it.
 */
export function decide(x: ScanInput): ScanDecision {
  const bySlot = new Map(x.rows.map((r) => [r.slot, r]));
  const takeOver: number[] = [];
  const claim: number[] = [];
  for (const r of x.rows) {
    if (r.slot >= x.poolSize || x.mine.has(r.slot)) continue;
    if (r.holder !== null && r.expiresAt <= x.now) takeOver.push(r.slot);
    else if (r.holder === null && (r.wantedBy === null || r.wantedBy === x.me || r.expiresAt <= x.now)) takeOver.push(r.slot);
  }
  let count = x.mine.size + takeOver.length;
  for (let slot = 0; slot < x.poolSize && count < x.share; slot++) {
    if (!bySlot.has(slot) && !x.mine.has(slot)) {
      claim.push(slot);
      count++;
    }
  }
  // rebalancing: ask the replicas holding the most for the rest of our share
  const want: number[] = [];
  if (count < x.share) {
    const perHolder = new Map<string, LeaseRow[]>();
    for (const r of x.rows) {
      if (r.holder === null || r.holder === x.me || r.expiresAt <= x.now || r.slot >= x.poolSize) continue;
      perHolder.set(r.holder, [...(perHolder.get(r.holder) ?? []), r]);
    }
    const holders = [...perHolder.values()].sort((a, b) => b.length - a.length);
    for (const slots of holders) {
      // ask while moving one more slot still evens the split (a holder with one more than us keeps its slots)
      let theirs = slots.length;
      const asked = [...slots.filter((r) => r.wantedBy === x.me), ...slots.filter((r) => r.wantedBy === null)];
      for (const r of asked) {
        if (count >= x.share || theirs <= count + 1) break;
        want.push(r.slot);
        theirs--;
        count++;
      }
    }
  }
  // hand-off: give away the asked-for slots beyond our share (a replica at or below its share keeps them)
  const handOff: number[] = [];
  let surplus = x.mine.size - x.share;
  for (const r of x.rows) {
    if (surplus <= 0) break;
    if (x.mine.has(r.slot) && r.holder === x.me && r.wantedBy !== null && r.wantedBy !== x.me) {
      handOff.push(r.slot);
      surplus--;
    }
  }
  return { takeOver, claim, want, handOff };
}
