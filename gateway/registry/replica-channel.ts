/**
 * A broadcast channel between the gateway processes that share one database (docs/scale.md "Replicas"):
 * PostgreSQL LISTEN/NOTIFY. Every process receives every message, its own included. Payloads are short text
 * (PostgreSQL refuses a NOTIFY payload of 8000 bytes or more); delivery is at most once: a process whose listening
 * session is down meanwhile misses what was sent, and is told through `onGap` once it listens again.
 */
export interface ReplicaChannel {
  publish(payload: string): Promise<void>;
  subscribe(listener: (payload: string) => void): void;
  /** Called after the listening session was re-established (messages may have been missed meanwhile). */
  onGap(listener: () => void): void;
  close(): Promise<void>;
}

/** The largest payload publish accepts (bytes, UTF-8): under PostgreSQL's 8000-byte NOTIFY limit. */
export const MAX_CHANNEL_PAYLOAD = 7900;
