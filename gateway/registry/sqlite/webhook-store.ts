import type { DeadLetterRow, WebhookRow } from '../webhook-repo';
import type { RegistryDb } from './open';

interface RawWebhook {
  id: number;
  url: string;
  events: string;
  rotations: string;
  secret: string;
  description: string;
  created_at: number;
  created_by: string;
}

interface RawDeadLetter {
  id: number;
  webhook_id: number;
  delivery_id: string;
  event_type: string;
  url: string;
  payload: string;
  attempts: number;
  last_error: string;
  failed_at: number;
}

const toWebhook = (r: RawWebhook): WebhookRow => ({
  id: r.id,
  url: r.url,
  events: JSON.parse(r.events) as string[],
  rotations: JSON.parse(r.rotations) as WebhookRow['rotations'],
  secret: r.secret,
  description: r.description,
  createdAt: r.created_at,
  createdBy: r.created_by,
});

const toDeadLetter = (r: RawDeadLetter): DeadLetterRow => ({
  id: r.id,
  webhookId: r.webhook_id,
  deliveryId: r.delivery_id,
  eventType: r.event_type,
  url: r.url,
  payload: r.payload,
  attempts: r.attempts,
  lastError: r.last_error,
  failedAt: r.failed_at,
});

/** Webhook registrations and dead letters on SQLite (migration 0004_webhooks); synchronous, made async by the registry. */
export class WebhookStore {
  constructor(private readonly db: RegistryDb) {}

  insert(w: Omit<WebhookRow, 'id'>): WebhookRow {
    const r = this.db.$client
      .prepare(`insert into webhooks (url, events, rotations, secret, description, created_at, created_by) values (?, ?, ?, ?, ?, ?, ?)`)
      .run(w.url, JSON.stringify(w.events), JSON.stringify(w.rotations), w.secret, w.description, w.createdAt, w.createdBy);
    return { ...w, id: Number(r.lastInsertRowid) };
  }

  list(): WebhookRow[] {
    return this.db.$client.prepare<[], RawWebhook>(`select * from webhooks order by id`).all().map(toWebhook);
  }

  get(id: number): WebhookRow | undefined {
    const r = this.db.$client.prepare<[number], RawWebhook>(`select * from webhooks where id = ?`).get(id);
    return r === undefined ? undefined : toWebhook(r);
  }

  delete(id: number): boolean {
    return this.db.$client.prepare(`delete from webhooks where id = ?`).run(id).changes === 1;
  }

  addDeadLetter(d: Omit<DeadLetterRow, 'id'>): number {
    const r = this.db.$client
      .prepare(
        `insert into webhook_dead_letters (webhook_id, delivery_id, event_type, url, payload, attempts, last_error, failed_at)
         values (?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(d.webhookId, d.deliveryId, d.eventType, d.url, d.payload, d.attempts, d.lastError, d.failedAt);
    return Number(r.lastInsertRowid);
  }

  /** Newest first. */
  deadLetters(limit: number): DeadLetterRow[] {
    return this.db.$client
      .prepare<[number], RawDeadLetter>(`select * from webhook_dead_letters order by failed_at desc, id desc limit ?`)
      .all(limit)
      .map(toDeadLetter);
  }

  deadLetter(id: number): DeadLetterRow | undefined {
    const r = this.db.$client.prepare<[number], RawDeadLetter>(`select * from webhook_dead_letters where id = ?`).get(id);
    return r === undefined ? undefined : toDeadLetter(r);
  }

  deleteDeadLetter(id: number): boolean {
    return this.db.$client.prepare(`delete from webhook_dead_letters where id = ?`).run(id).changes === 1;
  }
}
