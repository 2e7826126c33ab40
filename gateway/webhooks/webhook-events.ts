import type { Clock } from '../clock';
import type { EventBus, RolloutStateEvent } from '../events/event-bus';
import type { Logger } from '../logger';
import type { CoverageRepo, DeviceRepo } from '../registry/repositories';
import type { PinSetViews } from '../registry/pinset-views';
import { rotationReadiness } from '../rotation-gate/rotation-readiness';
import type { WebhookDispatcher } from './webhook-dispatcher';

/** The events a webhook may subscribe to. (Drift and CT findings join this list once they exist.) */
export const WEBHOOK_EVENTS = [
  'rollout.paused',
  'rollout.completed',
  'rollout.aborted',
  'rollout.gate-tripped',
  'rotation.ready',
  'finding.raised',
  'finding.cleared',
  'killswitch.engaged',
  'device.flagged',
  'device.login-throttled',
  'ping',
] as const;
export type WebhookEvent = (typeof WEBHOOK_EVENTS)[number];

const GATES: Record<string, string> = { errorGateTripped: 'error', telemetryGateTripped: 'telemetry', waveFailed: 'wave-failed' };

/** Rollout state changes → rollout.paused / completed / aborted, and rollout.gate-tripped for the gate that paused it. */
export function rolloutWebhooks(events: EventBus, dispatcher: WebhookDispatcher): () => void {
  return events.on('rolloutState', (e: RolloutStateEvent) => {
    const data = { rolloutId: e.rolloutId, fleet: e.fleet, seq: e.seq, from: e.from, state: e.to, cause: e.event, actor: e.actor, at: new Date(e.at).toISOString(), ...e.detail };
    const gate = GATES[e.event];
    if (gate !== undefined) dispatcher.publish('rollout.gate-tripped', { ...data, gate });
    if (e.to === 'PAUSED') dispatcher.publish('rollout.paused', data);
    else if (e.to === 'COMPLETED') dispatcher.publish('rollout.completed', data);
    else if (e.to === 'ABORTED') dispatcher.publish('rollout.aborted', data);
  });
}

/**
 * Drift and CT watch findings (issue 16) → finding.raised / finding.cleared (the finding's stable key says which
 * problem cleared), and an engaged kill switch → killswitch.engaged: the incidents an on-call operator is paged for.
 */
export function lifecycleWebhooks(events: EventBus, dispatcher: WebhookDispatcher): () => void {
  const iso = (at: number) => new Date(at).toISOString();
  const offs = [
    events.on('finding', (e) => dispatcher.publish('finding.raised', { ...e, at: iso(e.at) })),
    events.on('findingCleared', (e) => dispatcher.publish('finding.cleared', { ...e, at: iso(e.at) })),
    events.on('killSwitch', (e) => dispatcher.publish('killswitch.engaged', { ...e, at: iso(e.at) })),
  ];
  return () => offs.forEach((off) => off());
}

/** device.login-throttled is sent at most once per device per this window (the login throttle's forget time). */
export const THROTTLED_WEBHOOK_EVERY_MS = 15 * 60_000;

/**
 * Issue 17, the security incidents an operator is paged for: device.flagged (a credential used from two
 * connections at once, a hello conflicting with what the gateway knows) for every flag, and device.login-throttled
 * when a device id's log-ins start being throttled (someone is guessing its credential), at most once per device
 * per THROTTLED_WEBHOOK_EVERY_MS so an attack on many ids is not a webhook per guess. The per-attempt figures are on
 * /metrics and GET /api/security.
 */
export function securityWebhooks(events: EventBus, dispatcher: WebhookDispatcher, maxDevices = 100_000): () => void {
  const iso = (at: number) => new Date(at).toISOString();
  const lastSent = new Map<string, number>();
  const offs = [
    // the reason names both addresses of a credential used twice (start.ts), as the audit entry does
    events.on('flagged', (e) => dispatcher.publish('device.flagged', { deviceId: e.deviceId, reason: e.reason, at: iso(e.at) })),
    events.on('authFailed', (e) => {
      if (!e.throttled) return;
      const last = lastSent.get(e.deviceId);
      if (last !== undefined && e.at - last < THROTTLED_WEBHOOK_EVERY_MS) return;
      lastSent.delete(e.deviceId);
      lastSent.set(e.deviceId, e.at);
      if (lastSent.size > maxDevices) lastSent.delete(lastSent.keys().next().value as string);
      dispatcher.publish('device.login-throttled', { deviceId: e.deviceId, from: e.from, at: iso(e.at) });
    }),
  ];
  return () => offs.forEach((off) => off());
}

/**
 * rotation.ready: for each watched (fleet, host, pin, target) of each webhook, the SPEC §8 rotation gate is
 * re-evaluated (from counters) shortly after the fleet's coverage changed, and the webhook is told when it turns
 * from not ready to ready. The first evaluation (start-up, registration) only sets the baseline.
 */
export class RotationWatcher {
  private readonly ready = new Map<string, boolean>();
  private readonly due = new Map<string, NodeJS.Timeout>();

  constructor(
    private readonly deps: { devices: DeviceRepo; coverage: CoverageRepo; views: PinSetViews; dispatcher: WebhookDispatcher; clock: Clock; logger: Logger },
    private readonly debounceMs = 200,
  ) {}

  /** Evaluates a webhook's watches (all webhooks' when none is named) without notifying: start-up, registration. */
  async baseline(webhookId?: number): Promise<void> {
    await this.evaluate(undefined, webhookId, false);
  }

  /** Coverage of `fleet` changed (coverage counters committed): re-evaluate its watches soon, once. */
  changed(fleet: string): void {
    if (this.due.has(fleet)) return;
    const t = setTimeout(() => {
      this.due.delete(fleet);
      void this.evaluate(fleet, undefined, true);
    }, this.debounceMs);
    t.unref();
    this.due.set(fleet, t);
  }

  stop(): void {
    for (const t of this.due.values()) clearTimeout(t);
    this.due.clear();
  }

  private async evaluate(fleet: string | undefined, webhookId: number | undefined, notify: boolean): Promise<void> {
    const { dispatcher, clock } = this.deps;
    for (const hook of dispatcher.registrations()) {
      if ((webhookId !== undefined && hook.id !== webhookId) || !hook.events.includes('rotation.ready')) continue;
      for (const w of hook.rotations) {
        if (fleet !== undefined && w.fleet !== fleet) continue;
        const key = `${hook.id}\u0000${w.fleet}\u0000${w.host}\u0000${w.pin}\u0000${w.target}`;
        try {
          const r = await rotationReadiness(this.deps, { ...w, limit: 1, now: clock.now() });
          const before = this.ready.get(key);
          this.ready.set(key, r.ready);
          if (notify && before === false && r.ready) {
            dispatcher.publish(
              'rotation.ready',
              { fleet: w.fleet, host: r.host, pin: w.pin, target: w.target, coverage: r.coverage, verified: r.verified, total: r.total, atRisk: r.atRisk },
              new Set([hook.id]),
            );
          }
        } catch (err) {
          this.deps.logger.error('rotation watch failed', { webhook: hook.id, fleet: w.fleet, error: String(err) });
        }
      }
    }
  }
}
