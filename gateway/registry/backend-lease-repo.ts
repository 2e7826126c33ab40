/**
 * Leases on the external broker's backend client ids (docs/scale.md "Backend connections"): which gateway replica
 * may connect with which id of the fixed pool, until when. Not part of a unit of work: every call is one atomic
 * statement, so two replicas racing for a slot never both win. Times are unix ms of the caller's (injected) clock.
 */

/** One slot of the pool (`backend_leases`). */
export interface LeaseRow {
  slot: number;
  /** The replica holding it, or null once released (its session may still hold messages: someone must take it). */
  holder: string | null;
  /** The lease ends here unless renewed; after a release with `wantedBy` set, the wanter's reservation ends here. */
  expiresAt: number;
  /** Bumped at every change of holder, so one holding is told from the next. */
  epoch: number;
  /** A replica short of its share asked the holder to hand this slot over (rebalancing), or null. */
  wantedBy: string | null;
}

export interface BackendLeaseRepo {
  /** Every slot row, by slot (a slot without a row has never been used: no session at the broker). */
  list(): Promise<LeaseRow[]>;
  /**
   * Takes `slot` for `holder` until `now + ttlMs` when it is unused, released (and not reserved for another
   * replica until after `now`), or its lease ran out (expiresAt ≤ now). Returns the new row (epoch bumped), or
   * null when someone else holds it.
   */
  acquire(slot: number, holder: string, now: number, ttlMs: number): Promise<LeaseRow | null>;
  /** Extends to `now + ttlMs` the leases among `slots` that `holder` still holds unexpired; returns those rows. */
  renew(holder: string, slots: readonly number[], now: number, ttlMs: number): Promise<LeaseRow[]>;
  /**
   * Gives `slot` up (holder null). A replica that asked for it (wantedBy) has it to itself until `reservedUntil`;
   * without one, anyone may take it at once. False when `holder` did not hold it.
   */
  release(slot: number, holder: string, reservedUntil: number): Promise<boolean>;
  /** Asks the holder of `slot` to hand it over to `wanter` (kept when another replica asked first). */
  want(slot: number, wanter: string): Promise<boolean>;
}
