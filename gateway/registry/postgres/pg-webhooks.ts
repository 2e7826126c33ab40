import type { DeadLetterRow, WebhookRepo, WebhookRow } from '../webhook-repo';
import { rows, run, type Queryable } from './pg-pool';

const WEBHOOK_COLUMNS = `id, url, events, rotations, secret, description, created_at as "createdAt", created_by as "createdBy"`;
const DEAD_LETTER_COLUMNS = `id, webhook_id as "webhookId", delivery_id as "deliveryId", event_type as "eventType", url, payload, attempts,
  last_error as "lastError", failed_at as "failedAt"`;

/** Webhook registrations and dead letters on PostgreSQL (migration 0003_webhooks). */
export class PgWebhooks implements WebhookRepo {
  constructor(private readonly db: Queryable) {}

  async insert(w: Omit<WebhookRow, 'id'>): Promise<WebhookRow> {
    const [row] = await rows<WebhookRow>(
      this.db,
      `insert into webhooks (url, events, rotations, secret, description, created_at, created_by)
       values ($1, $2::jsonb, $3::jsonb, $4, $5, $6, $7) returning ${WEBHOOK_COLUMNS}`,
      [w.url, JSON.stringify(w.events), JSON.stringify(w.rotations), w.secret, w.description, w.createdAt, w.createdBy],
    );
    if (row === undefined) throw new Error('webhook insert returned nothing');
    return row;
  }

  async list(): Promise<WebhookRow[]> {
    return rows<WebhookRow>(this.db, `select ${WEBHOOK_COLUMNS} from webhooks order by id`);
  }

  async get(id: number): Promise<WebhookRow | undefined> {
    return (await rows<WebhookRow>(this.db, `select ${WEBHOOK_COLUMNS} from webhooks where id = $1`, [id]))[0];
  }

  async delete(id: number): Promise<boolean> {
    return (await run(this.db, 'delete from webhooks where id = $1', [id])) === 1;
  }

  async addDeadLetter(d: Omit<DeadLetterRow, 'id'>): Promise<number> {
    const [row] = await rows<{ id: number }>(
      this.db,
      `insert into webhook_dead_letters (webhook_id, delivery_id, event_type, url, payload, attempts, last_error, failed_at)
       values ($1, $2, $3, $4, $5, $6, $7, $8) returning id`,
      [d.webhookId, d.deliveryId, d.eventType, d.url, d.payload, d.attempts, d.lastError, d.failedAt],
    );
    if (row === undefined) throw new Error('dead letter insert returned nothing');
    return row.id;
  }

  async deadLetters(limit: number): Promise<DeadLetterRow[]> {
    return rows<DeadLetterRow>(this.db, `select ${DEAD_LETTER_COLUMNS} from webhook_dead_letters order by failed_at desc, id desc limit $1`, [limit]);
  }

  async deadLetter(id: number): Promise<DeadLetterRow | undefined> {
    return (await rows<DeadLetterRow>(this.db, `select ${DEAD_LETTER_COLUMNS} from webhook_dead_letters where id = $1`, [id]))[0];
  }

  async deleteDeadLetter(id: number): Promise<boolean> {
    return (await run(this.db, 'delete from webhook_dead_letters where id = $1', [id])) === 1;
  }
}
