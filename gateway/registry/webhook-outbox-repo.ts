/**
 * The storage contract for the webhook outbox (issue 13: deliveries waiting for a retry used to live in the memory
 * of the replica that took them). A delivery is written when its event happens and deleted once a receiver
 * answered 2xx; a delivery worker on every replica claims due rows with a lease, so when a replica dies its
 * deliveries are taken over by another once their lease ran out. At least once: a receiver dedupes on the
 * delivery id (x-pingw-delivery), which never changes. Implemented by registry/sqlite/webhook-outbox-store.ts and
 * registry/postgres/pg-webhook-outbox.ts. Times are unix ms of the caller's (injected) clock.
 */

export interface OutboxInsert {
  deliveryId: string;
  webhookId: number;
  eventType: string;
  /** The JSON body, exactly as every attempt sends it. */
  payload: string;
  /** Due from here (now for a new delivery). */
  nextAt: number;
  createdAt: number;
}

/** A claimed delivery, with what it is sent with (the registration's URL and secret, read at claim time). */
export interface OutboxClaim {
  id: number;
  deliveryId: string;
  webhookId: number;
  eventType: string;
  payload: string;
  /** Including the attempt this claim is for (counted at claim time, so a replica dying mid-request still counts it). */
  attempts: number;
  lastError: string;
  leaseUntil: number;
  /** null when the webhook was removed meanwhile (the worker makes it a dead letter). */
  url: string | null;
  secret: string | null;
}

export interface WebhookOutboxRepo {
  /** Adds deliveries; a delivery id already waiting is kept as it is (a redelivery asked twice). Returns how many were added. */
  enqueue(rows: readonly OutboxInsert[]): Promise<number>;
  /**
   * Takes up to `limit` deliveries due at `now` (nextAt ≤ now) whose lease is free or ran out (leaseUntil ≤ now) for
   * `holder` until `now + leaseMs`, oldest due first, and counts an attempt on each. Two workers racing never claim
   * the same row (PostgreSQL: FOR UPDATE SKIP LOCKED; SQLite: one statement, one writer).
   */
  claim(holder: string, now: number, leaseMs: number, limit: number): Promise<OutboxClaim[]>;
  /** Delivered: the row is deleted. False when `holder` no longer holds it (its lease ran out and another took it). */
  complete(id: number, holder: string): Promise<boolean>;
  /**
   * Failed, retry at `nextAt`: the lease is given up (`leaseHolder` stays, naming who tried last). False when
   * `holder` no longer holds it.
   */
  retry(id: number, holder: string, nextAt: number, lastError: string): Promise<boolean>;
  /** Failed for good: moved to the dead letters (one transaction). Returns the dead letter's id, or null when not held. */
  deadLetter(id: number, holder: string, url: string, lastError: string, failedAt: number): Promise<number | null>;
  /** Deliveries waiting (due or not, leased or not) and the earliest due time (null when none). */
  pending(): Promise<{ count: number; nextDueAt: number | null }>;
}
