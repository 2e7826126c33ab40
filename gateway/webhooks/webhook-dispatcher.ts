import { randomUUID } from 'node:crypto';
import type { Clock } from '../clock';
import type { Logger } from '../logger';
import type { WebhookRepo, WebhookRow } from '../registry/webhook-repo';
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

interface Pending {
  deliveryId: string;
  webhook: Pick<WebhookRow, 'id' | 'url' | 'secret'>;
  type: string;
  body: string;
  attempts: number;
  nextAt: number;
  lastError: string;
}

/** Deliveries waiting or in flight at most; beyond it, new ones go straight to the dead letters (nothing is lost). */
const MAX_QUEUE = 10_000;
const CONCURRENCY = 4;

/**
 * Sends events to the registered URLs: JSON bodies signed with HMAC-SHA256 (webhook-signature.ts), retried with
 * exponential backoff, then kept as dead letters (GET /api/webhooks/dead-letters). `publish` only appends to an
 * in-memory queue and returns: a slow or dead receiver never blocks ingestion or the rollout driver. On stop,
 * deliveries still waiting become dead letters ("gateway stopped"), so an operator can redeliver them.
 */
export class WebhookDispatcher {
  private hooks: WebhookRow[] = [];
  private readonly queue: Pending[] = [];
  private inFlight = 0;
  private readonly sending = new Set<Promise<void>>();
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  /** Dead letters being written (awaited on stop, before the database closes). */
  private readonly writing = new Set<Promise<void>>();

  constructor(
    private readonly deps: { store: WebhookRepo; clock: Clock; logger: Logger },
    private readonly options: WebhookOptions,
  ) {}

  /** Reads the registrations (at start-up, after a create or delete). Awaits, so an async store fits too. */
  async reload(): Promise<void> {
    this.hooks = await this.deps.store.list();
  }

  registrations(): readonly WebhookRow[] {
    return this.hooks;
  }

  /**
   * Queues one delivery per webhook that wants `type` (`only`: to these webhook ids; `always`: whatever they
   * subscribed to, for ping). Never throws, never waits.
   */
  publish(type: string, data: Record<string, unknown>, only?: ReadonlySet<number>, always = false): number {
    if (this.stopped) return 0;
    let n = 0;
    for (const hook of this.hooks) {
      if ((!always && !hook.events.includes(type)) || (only !== undefined && !only.has(hook.id))) continue;
      const deliveryId = randomUUID();
      const body = JSON.stringify({ id: deliveryId, type, createdAt: new Date(this.deps.clock.now()).toISOString(), data });
      this.enqueue({ deliveryId, webhook: hook, type, body, attempts: 0, nextAt: this.deps.clock.now(), lastError: '' });
      n++;
    }
    return n;
  }

  /** A dead letter sent again (same delivery id and body), with a fresh attempt budget. */
  redeliver(d: { deliveryId: string; webhookId: number; url: string; eventType: string; payload: string }, secret: string): void {
    this.enqueue({
      deliveryId: d.deliveryId, webhook: { id: d.webhookId, url: d.url, secret }, type: d.eventType, body: d.payload,
      attempts: 0, nextAt: this.deps.clock.now(), lastError: '',
    });
  }

  /** Waits for requests in flight; what is still queued becomes dead letters. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== null) clearTimeout(this.timer);
    await Promise.allSettled([...this.sending]);
    for (const p of this.queue.splice(0)) this.deadLetter(p, p.lastError === '' ? 'gateway stopped before delivery' : `gateway stopped; last: ${p.lastError}`);
    await Promise.allSettled([...this.writing]);
  }

  private enqueue(p: Pending): void {
    if (this.queue.length + this.inFlight >= MAX_QUEUE) {
      this.deadLetter(p, `queue full (${MAX_QUEUE} deliveries waiting)`);
      return;
    }
    this.queue.push(p);
    this.pump();
  }

  private pump(): void {
    if (this.stopped) return;
    const now = this.deps.clock.now();
    this.queue.sort((a, b) => a.nextAt - b.nextAt);
    while (this.inFlight < CONCURRENCY && this.queue.length > 0 && (this.queue[0] as Pending).nextAt <= now) {
      const p = this.queue.shift() as Pending;
      this.inFlight++;
      const s = this.send(p).finally(() => {
        this.inFlight--;
        this.sending.delete(s);
        this.pump();
      });
      this.sending.add(s);
    }
    this.wakeAt(this.queue[0]?.nextAt ?? null);
  }

  private wakeAt(at: number | null): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    if (at === null || this.stopped) return;
    this.timer = setTimeout(() => this.pump(), Math.max(0, at - this.deps.clock.now()));
    this.timer.unref();
  }

  private async send(p: Pending): Promise<void> {
    p.attempts++;
    const now = this.deps.clock.now();
    try {
      const res = await fetch(p.webhook.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'pin-update-gateway webhooks',
          'x-pingw-event': p.type,
          'x-pingw-delivery': p.deliveryId,
          'x-pingw-attempt': String(p.attempts),
          [SIGNATURE_HEADER]: signWebhook(p.webhook.secret, p.body, Math.floor(now / 1000)),
        },
        body: p.body,
        redirect: 'manual', // a redirect is a failure: the signature was made for this URL's receiver
        signal: AbortSignal.timeout(this.options.timeoutMs),
      });
      await res.arrayBuffer().catch(() => undefined);
      if (res.status >= 200 && res.status < 300) return;
      p.lastError = `HTTP ${res.status}`;
    } catch (err) {
      const e = err as Error & { cause?: { code?: string } };
      p.lastError = e.name === 'TimeoutError' ? `no answer within ${this.options.timeoutMs} ms` : (e.cause?.code ?? e.message);
    }
    if (p.attempts >= this.options.maxAttempts) {
      this.deadLetter(p, p.lastError);
      return;
    }
    const { backoffMs, backoffMaxMs } = this.options;
    p.nextAt = this.deps.clock.now() + Math.min(backoffMaxMs, backoffMs * 2 ** (p.attempts - 1));
    this.deps.logger.info('webhook delivery failed, will retry', { webhook: p.webhook.id, type: p.type, attempt: p.attempts, error: p.lastError });
    if (!this.stopped) this.queue.push(p);
  }

  private deadLetter(p: Pending, lastError: string): void {
    this.deps.logger.warn('webhook delivery given up: dead letter', { webhook: p.webhook.id, type: p.type, attempts: p.attempts, error: lastError });
    const w = (async () => {
      await this.deps.store.addDeadLetter({
        webhookId: p.webhook.id, deliveryId: p.deliveryId, eventType: p.type, url: p.webhook.url, payload: p.body,
        attempts: p.attempts, lastError, failedAt: this.deps.clock.now(),
      });
    })()
      .catch((err: unknown) => this.deps.logger.error('dead letter not stored', { webhook: p.webhook.id, error: String(err) }))
      .finally(() => this.writing.delete(w));
    this.writing.add(w);
  }
}
