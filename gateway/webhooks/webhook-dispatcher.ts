import { randomUUID } from 'node:crypto';
import type { Clock } from '../clock';
import type { Logger } from '../logger';
import type { WebhookRepo, WebhookRow } from '../registry/webhook-repo';
import type { OutboxClaim, OutboxInsert, WebhookOutboxRepo } from '../registry/webhook-outbox-repo';
import { SIGNATURE_HEADER, signWebhook } from './webhook-signature';

export interface WebhookOptions {
  /** Attempts per delivery before it becomes a dead letter. */
  maxAttempts: number;
  /** Backoff after failed attempt n: min(backoffMaxMs, backoffMs · 2^(n-1)). */
  backoffMs: number;
  backoffMaxMs: number;
  /** Per request. */
  timeoutMs: number;
}

/** Requests in flight per replica. */
const CONCURRENCY = 4;
/** How often a worker looks for due deliveries it did not schedule itself (another replica's, after a crash). */
const POLL_MS = 1000;
/** How often the registrations are re-read (a webhook created or deleted through another replica's API). */
const REGISTRATIONS_EVERY_MS = 5000;

/**
 * Sends events to the registered URLs: JSON bodies signed with HMAC-SHA256 (webhook-signature.ts), retried with
 * exponential backoff, then kept as dead letters (GET /api/webhooks/dead-letters).
 *
 * Every delivery goes through the registry's outbox (issue 13, docs/operations: "Webhooks"): `publish` writes one
 * row per webhook (right after the committed fact that caused it) and returns at once, so a slow or dead receiver
 * never blocks ingestion or the rollout driver. A worker on every replica claims due rows with a lease of
 * 2 × timeout + 5 s, sends, and deletes the row on a 2xx, reschedules it with backoff on a failure, or moves it to the
 * dead letters after the last attempt. A replica that dies leaves its rows in the outbox: another replica's worker
 * takes them once due (a retry) or once the lease ran out (a request in flight). Delivery is at least once: the
 * delivery id (`x-pingw-delivery`, also the body's `id`) never changes, receivers dedupe on it. On stop, requests in
 * flight are awaited and what waits stays in the outbox for the next start or another replica.
 */
export class WebhookDispatcher {
  private hooks: WebhookRow[] = [];
  private inFlight = 0;
  private readonly sending = new Set<Promise<void>>();
  /** Outbox writes not yet done (awaited on stop, before the database closes). */
  private readonly writing = new Set<Promise<void>>();
  private timer: NodeJS.Timeout | null = null;
  private wakeAtMs: number | null = null;
  private claiming: Promise<void> | null = null;
  private claimAgain = false;
  private started = false;
  private stopped = false;
  private lastReload = 0;
  private readonly leaseMs: number;

  constructor(
    private readonly deps: { store: WebhookRepo; outbox: WebhookOutboxRepo; clock: Clock; logger: Logger; holder: string },
    private readonly options: WebhookOptions,
    private readonly pollMs = POLL_MS,
  ) {
    // longer than one request and the write of its result: a live worker never loses a lease mid-request
    this.leaseMs = 2 * options.timeoutMs + 5000;
  }

  /** Reads the registrations (at start-up, after a create or delete, and every few seconds). */
  async reload(): Promise<void> {
    this.lastReload = this.deps.clock.now();
    this.hooks = await this.deps.store.list();
  }

  registrations(): readonly WebhookRow[] {
    return this.hooks;
  }

  /** Starts the delivery worker: it sends what waits in the outbox (this replica's, and any dead replica's). */
  start(): void {
    if (this.started || this.stopped) return;
    this.started = true;
    this.pump();
  }

  /**
   * Writes one delivery per webhook that wants `type` (`only`: to these webhook ids; `always`: whatever they
   * subscribed to, for ping) to the outbox. Never throws, never waits; answers how many deliveries it made.
   */
  publish(type: string, data: Record<string, unknown>, only?: ReadonlySet<number>, always = false): number {
    if (this.stopped) return 0;
    const now = this.deps.clock.now();
    const rows: OutboxInsert[] = [];
    for (const hook of this.hooks) {
      if ((!always && !hook.events.includes(type)) || (only !== undefined && !only.has(hook.id))) continue;
      const deliveryId = randomUUID();
      const payload = JSON.stringify({ id: deliveryId, type, createdAt: new Date(now).toISOString(), data });
      rows.push({ deliveryId, webhookId: hook.id, eventType: type, payload, nextAt: now, createdAt: now });
    }
    if (rows.length > 0) this.write(rows);
    return rows.length;
  }

  /** A dead letter sent again (same delivery id and body), with a fresh attempt budget. */
  async redeliver(d: { deliveryId: string; webhookId: number; eventType: string; payload: string }): Promise<void> {
    const now = this.deps.clock.now();
    await this.deps.outbox.enqueue([{ deliveryId: d.deliveryId, webhookId: d.webhookId, eventType: d.eventType, payload: d.payload, nextAt: now, createdAt: now }]);
    this.pump();
  }

  /** Waits for outbox writes and requests in flight; what still waits stays in the outbox. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    await Promise.allSettled([...this.writing]);
    await this.claiming;
    await Promise.allSettled([...this.sending]);
  }

  private write(rows: OutboxInsert[]): void {
    const w = this.deps.outbox
      .enqueue(rows)
      .then(() => this.pump())
      .catch((err: unknown) =>
        // the fact that caused it is committed; the delivery is not: say which, so an operator can tell the receiver
        this.deps.logger.error('webhook delivery not stored: lost', { deliveries: rows.map((r) => ({ webhook: r.webhookId, type: r.eventType, deliveryId: r.deliveryId })), error: String(err) }),
      )
      .finally(() => this.writing.delete(w));
    this.writing.add(w);
  }

  /** Claims what is due, as many as there are free request slots; one claim at a time. */
  private pump(): void {
    if (!this.started || this.stopped) return;
    if (this.claiming !== null) {
      this.claimAgain = true;
      return;
    }
    this.claiming = this.claimOnce()
      .catch((err: unknown) => this.deps.logger.error('webhook outbox claim failed', { error: String(err) }))
      .finally(() => {
        this.claiming = null;
        if (this.claimAgain) {
          this.claimAgain = false;
          this.pump();
        }
      });
  }

  private async claimOnce(): Promise<void> {
    const now = this.deps.clock.now();
    if (now - this.lastReload >= REGISTRATIONS_EVERY_MS) {
      await this.reload().catch((err: unknown) => this.deps.logger.error('webhook registrations not re-read', { error: String(err) }));
    }
    const free = CONCURRENCY - this.inFlight;
    if (free > 0) {
      const claims = await this.deps.outbox.claim(this.deps.holder, now, this.leaseMs, free);
      for (const c of claims) {
        this.inFlight++;
        const s = this.send(c)
          .catch((err: unknown) => this.deps.logger.error('webhook delivery result not stored (retried after its lease)', { deliveryId: c.deliveryId, error: String(err) }))
          .finally(() => {
            this.inFlight--;
            this.sending.delete(s);
            this.pump();
          });
        this.sending.add(s);
      }
      if (claims.length === free) this.claimAgain = true; // there may be more: claim again once slots free up
    }
    this.wakeAt(this.deps.clock.now() + this.pollMs);
  }

  /** Wakes the worker at `at` at the latest (an earlier wake already set is kept). */
  private wakeAt(at: number): void {
    if (this.stopped || (this.wakeAtMs !== null && this.wakeAtMs <= at && this.timer !== null)) return;
    if (this.timer !== null) clearTimeout(this.timer);
    this.wakeAtMs = at;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.wakeAtMs = null;
      this.pump();
    }, Math.max(0, at - this.deps.clock.now()));
    this.timer.unref();
  }

  private async send(c: OutboxClaim): Promise<void> {
    const { outbox, clock, logger, holder } = this.deps;
    if (c.url === null || c.secret === null) {
      await outbox.deadLetter(c.id, holder, '(webhook removed)', 'the webhook was removed before delivery', clock.now());
      return;
    }
    let lastError: string;
    try {
      const res = await fetch(c.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'pin-update-gateway webhooks',
          'x-pingw-event': c.eventType,
          'x-pingw-delivery': c.deliveryId,
          'x-pingw-attempt': String(c.attempts),
          [SIGNATURE_HEADER]: signWebhook(c.secret, c.payload, Math.floor(clock.now() / 1000)),
        },
        body: c.payload,
        redirect: 'manual', // a redirect is a failure: the signature was made for this URL's receiver
        signal: AbortSignal.timeout(this.options.timeoutMs),
      });
      await res.arrayBuffer().catch(() => undefined);
      if (res.status >= 200 && res.status < 300) {
        await outbox.complete(c.id, holder);
        if (c.attempts > 1) logger.info('webhook delivered after a retry', { webhook: c.webhookId, type: c.eventType, deliveryId: c.deliveryId, attempt: c.attempts });
        return;
      }
      lastError = `HTTP ${res.status}`;
    } catch (err) {
      const e = err as Error & { cause?: { code?: string } };
      lastError = e.name === 'TimeoutError' ? `no answer within ${this.options.timeoutMs} ms` : (e.cause?.code ?? e.message);
    }
    if (c.attempts >= this.options.maxAttempts) {
      logger.warn('webhook delivery given up: dead letter', { webhook: c.webhookId, type: c.eventType, deliveryId: c.deliveryId, attempts: c.attempts, error: lastError });
      await outbox.deadLetter(c.id, holder, c.url, lastError, clock.now());
      return;
    }
    const { backoffMs, backoffMaxMs } = this.options;
    const nextAt = clock.now() + Math.min(backoffMaxMs, backoffMs * 2 ** (c.attempts - 1));
    logger.info('webhook delivery failed, will retry', { webhook: c.webhookId, type: c.eventType, deliveryId: c.deliveryId, attempt: c.attempts, error: lastError });
    await outbox.retry(c.id, holder, nextAt, lastError);
    this.wakeAt(nextAt);
  }
}
