/**
 * The storage contract for webhooks out (issue 18): registrations (the HMAC secret is kept, every delivery is
 * signed with it) and dead letters. Implemented by registry/sqlite/webhook-store.ts and
 * registry/postgres/pg-webhooks.ts (migrations 0004_webhooks / 0003_webhooks).
 */

/** A watched rotation gate (SPEC §8): "rotation.ready" fires when host H may switch to the key of pin P. */
export interface RotationWatch {
  fleet: string;
  host: string;
  pin: string;
  target: number;
}

export interface WebhookRow {
  id: number;
  url: string;
  events: string[];
  rotations: RotationWatch[];
  secret: string;
  description: string;
  createdAt: number;
  createdBy: string;
}

export interface DeadLetterRow {
  id: number;
  webhookId: number;
  deliveryId: string;
  eventType: string;
  url: string;
  payload: string;
  attempts: number;
  lastError: string;
  failedAt: number;
}

export interface WebhookRepo {
  insert(w: Omit<WebhookRow, 'id'>): Promise<WebhookRow>;
  list(): Promise<WebhookRow[]>;
  get(id: number): Promise<WebhookRow | undefined>;
  delete(id: number): Promise<boolean>;
  addDeadLetter(d: Omit<DeadLetterRow, 'id'>): Promise<number>;
  /** Newest first. */
  deadLetters(limit: number): Promise<DeadLetterRow[]>;
  deadLetter(id: number): Promise<DeadLetterRow | undefined>;
  deleteDeadLetter(id: number): Promise<boolean>;
}
