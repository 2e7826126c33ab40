import type { OutboxClaim, OutboxInsert } from '../webhook-outbox-repo';
import type { RegistryDb } from './open';

interface RawClaim {
  id: number;
  delivery_id: string;
  webhook_id: number;
  event_type: string;
  payload: string;
  attempts: number;
  last_error: string;
  lease_until: number;
  url: string | null;
  secret: string | null;
}

const toClaim = (r: RawClaim): OutboxClaim => ({
  id: r.id,
  deliveryId: r.delivery_id,
  webhookId: r.webhook_id,
  eventType: r.event_type,
  payload: r.payload,
  attempts: r.attempts,
  lastError: r.last_error,
  leaseUntil: r.lease_until,
  url: r.url,
  secret: r.secret,
});

/**
 * The webhook outbox on SQLite (replica-state-schema.ts). One process owns the file, so a claim is one UPDATE …
 * RETURNING (SQLite has one writer: two claims never interleave); the lease still matters across a restart, where
 * a delivery in flight when the process died is retried once its lease ran out.
 */
export class WebhookOutboxStore {
  constructor(private readonly db: RegistryDb) {}

  enqueue(rows: readonly OutboxInsert[]): number {
    const c = this.db.$client;
    const insert = c.prepare(
      `insert into webhook_outbox (delivery_id, webhook_id, event_type, payload, next_at, created_at) values (?, ?, ?, ?, ?, ?)
       on conflict (delivery_id) do nothing`,
    );
    return c.transaction(() => rows.reduce((n, r) => n + insert.run(r.deliveryId, r.webhookId, r.eventType, r.payload, r.nextAt, r.createdAt).changes, 0))();
  }

  claim(holder: string, now: number, leaseMs: number, limit: number): OutboxClaim[] {
    const c = this.db.$client;
    return c.transaction(() => {
      const ids = c
        .prepare<{ holder: string; now: number; until: number; limit: number }, { id: number }>(
          `update webhook_outbox set lease_holder = @holder, lease_until = @until, attempts = attempts + 1
           where id in (select id from webhook_outbox where next_at <= @now and lease_until <= @now order by next_at, id limit @limit)
           returning id`,
        )
        .all({ holder, now, until: now + leaseMs, limit })
        .map((r) => r.id);
      if (ids.length === 0) return [];
      return c
        .prepare<number[], RawClaim>(
          `select o.id, o.delivery_id, o.webhook_id, o.event_type, o.payload, o.attempts, o.last_error, o.lease_until, w.url, w.secret
           from webhook_outbox o left join webhooks w on w.id = o.webhook_id
           where o.id in (${ids.map(() => '?').join(', ')}) order by o.next_at, o.id`,
        )
        .all(...ids)
        .map(toClaim);
    })();
  }

  complete(id: number, holder: string): boolean {
    return this.db.$client.prepare(`delete from webhook_outbox where id = ? and lease_holder = ?`).run(id, holder).changes === 1;
  }

  retry(id: number, holder: string, nextAt: number, lastError: string): boolean {
    return (
      this.db.$client
        .prepare(`update webhook_outbox set lease_until = 0, next_at = ?, last_error = ? where id = ? and lease_holder = ?`)
        .run(nextAt, lastError, id, holder).changes === 1
    );
  }

  deadLetter(id: number, holder: string, url: string, lastError: string, failedAt: number): number | null {
    const c = this.db.$client;
    return c.transaction((): number | null => {
      const r = c
        .prepare(
          `insert into webhook_dead_letters (webhook_id, delivery_id, event_type, url, payload, attempts, last_error, failed_at)
           select webhook_id, delivery_id, event_type, ?, payload, attempts, ?, ? from webhook_outbox where id = ? and lease_holder = ?`,
        )
        .run(url, lastError, failedAt, id, holder);
      if (r.changes !== 1) return null;
      c.prepare(`delete from webhook_outbox where id = ?`).run(id);
      return Number(r.lastInsertRowid);
    })();
  }

  pending(): { count: number; nextDueAt: number | null } {
    const r = this.db.$client
      .prepare<[], { n: number; due: number | null }>(`select count(*) as n, min(next_at) as due from webhook_outbox`)
      .get();
    return { count: r?.n ?? 0, nextDueAt: r?.due ?? null };
  }
}
