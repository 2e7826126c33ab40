import type pg from 'pg';
import type { OutboxClaim, OutboxInsert, WebhookOutboxRepo } from '../webhook-outbox-repo';
import { rows, run } from './pg-pool';

/**
 * The webhook outbox on PostgreSQL, shared by every replica (replica-state-schema.ts). A claim picks due rows with
 * FOR UPDATE SKIP LOCKED and leases them in the same statement, so workers on several replicas never take the same
 * row; a lease that ran out (its replica died mid-request) makes the row claimable again. complete / retry /
 * deadLetter act only while the caller still holds the lease.
 */
export class PgWebhookOutbox implements WebhookOutboxRepo {
  constructor(private readonly pool: pg.Pool) {}

  async enqueue(list: readonly OutboxInsert[]): Promise<number> {
    if (list.length === 0) return 0;
    return run(
      this.pool,
      `insert into webhook_outbox (delivery_id, webhook_id, event_type, payload, next_at, created_at)
       select * from jsonb_to_recordset($1::jsonb) as r("deliveryId" text, "webhookId" int, "eventType" text, payload text, "nextAt" bigint, "createdAt" bigint)
       on conflict (delivery_id) do nothing`,
      [JSON.stringify(list)],
    );
  }

  async claim(holder: string, now: number, leaseMs: number, limit: number): Promise<OutboxClaim[]> {
    return rows<OutboxClaim>(
      this.pool,
      `with due as (
         select id from webhook_outbox where next_at <= $2 and lease_until <= $2 order by next_at, id limit $4 for update skip locked
       ), claimed as (
         update webhook_outbox o set lease_holder = $1, lease_until = $3, attempts = o.attempts + 1 from due where o.id = due.id
         returning o.id, o.delivery_id, o.webhook_id, o.event_type, o.payload, o.attempts, o.last_error, o.lease_until, o.next_at
       )
       select c.id, c.delivery_id as "deliveryId", c.webhook_id as "webhookId", c.event_type as "eventType", c.payload, c.attempts,
              c.last_error as "lastError", c.lease_until as "leaseUntil", w.url, w.secret
       from claimed c left join webhooks w on w.id = c.webhook_id order by c.next_at, c.id`,
      [holder, now, now + leaseMs, limit],
      'webhook_outbox_claim',
    );
  }

  async complete(id: number, holder: string): Promise<boolean> {
    return (await run(this.pool, `delete from webhook_outbox where id = $1 and lease_holder = $2`, [id, holder])) === 1;
  }

  async retry(id: number, holder: string, nextAt: number, lastError: string): Promise<boolean> {
    const n = await run(
      this.pool,
      `update webhook_outbox set lease_until = 0, next_at = $3, last_error = $4 where id = $1 and lease_holder = $2`,
      [id, holder, nextAt, lastError],
    );
    return n === 1;
  }

  async deadLetter(id: number, holder: string, url: string, lastError: string, failedAt: number): Promise<number | null> {
    // one statement: the row leaves the outbox and enters the dead letters together, or neither happens
    const [moved] = await rows<{ id: number }>(
      this.pool,
      `with gone as (delete from webhook_outbox where id = $1 and lease_holder = $2 returning *)
       insert into webhook_dead_letters (webhook_id, delivery_id, event_type, url, payload, attempts, last_error, failed_at)
       select webhook_id, delivery_id, event_type, $3, payload, attempts, $4, $5 from gone returning id`,
      [id, holder, url, lastError, failedAt],
    );
    return moved?.id ?? null;
  }

  async pending(): Promise<{ count: number; nextDueAt: number | null }> {
    const [r] = await rows<{ count: number; nextDueAt: number | null }>(
      this.pool,
      `select count(*) as count, min(next_at) as "nextDueAt" from webhook_outbox`,
    );
    return { count: r?.count ?? 0, nextDueAt: r?.nextDueAt ?? null };
  }
}
