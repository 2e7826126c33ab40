import { Gauge, type Registry } from 'prom-client';
import type { Clock } from '../clock';
import type { WebhookOutboxRepo } from '../registry/webhook-outbox-repo';

/**
 * The webhook outbox (issue 13), read from the registry at scrape time: deliveries waiting, and how overdue the
 * earliest one is. Every replica answers the same figures (one outbox), so an alert takes max(), not sum(): a
 * receiver that is down shows as a growing count; workers that are all gone (or stuck) as a growing lag.
 */
export function registerOutboxGauges(registry: Registry, deps: { outbox: WebhookOutboxRepo; clock: Clock }): void {
  const registers = [registry];
  let cached: { at: number; value: Promise<{ count: number; nextDueAt: number | null }> } | null = null;
  const pending = () => {
    const now = performance.now();
    if (cached === null || now - cached.at > 250) cached = { at: now, value: deps.outbox.pending() };
    return cached.value;
  };
  new Gauge({
    name: 'pingw_webhook_outbox_pending',
    help: 'Webhook deliveries not yet answered 2xx (due, leased or waiting for a retry), all replicas',
    registers,
    async collect() {
      this.set((await pending()).count);
    },
  });
  new Gauge({
    name: 'pingw_webhook_outbox_lag_seconds',
    help: 'How long the earliest due webhook delivery has been due (0 when none is due)',
    registers,
    async collect() {
      const due = (await pending()).nextDueAt;
      this.set(due === null ? 0 : Math.max(0, (deps.clock.now() - due) / 1000));
    },
  });
}
