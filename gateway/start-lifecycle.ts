import type { Clock } from './clock';
import type { GatewayConfig } from './config/schema';
import { Admission } from './admission/admission';
import { parseCtLog } from './ct-watch/ct-client';
import { CtWatch } from './ct-watch/ct-watch';
import { DriftWatch } from './drift-watch/drift-watch';
import type { BrowserEventStream } from './events/browser-event-stream';
import type { EventBus } from './events/event-bus';
import { FindingRegister } from './findings/finding-register';
import { GuidedRotation } from './guided-rotation/guided-rotation';
import type { TrustedKeysets } from './keysets/trusted-keysets';
import { KillSwitch } from './kill-switch/kill-switch';
import type { Logger } from './logger';
import type { FetchServerPins } from './pinsets/live-check';
import type { PinSetPublisher } from './pinsets/pinset-publisher';
import type { Delivery } from './protocol/delivery';
import type { PinSetViews } from './registry/pinset-views';
import type { Registry } from './registry/registry';
import type { RolloutDriver } from './rollout-driver/rollout-driver';
import type { RolloutDefaults } from './rollout-driver/rollout-factory';

export interface LifecycleDeps {
  config: GatewayConfig;
  registry: Registry;
  views: PinSetViews;
  fetchPins: FetchServerPins;
  driver: RolloutDriver;
  publisher: PinSetPublisher;
  trusted: TrustedKeysets;
  delivery: Delivery;
  events: EventBus;
  hub: BrowserEventStream;
  clock: Clock;
  logger: Logger;
  rolloutDefaults: RolloutDefaults;
}

export interface Lifecycle {
  killSwitch: KillSwitch;
  findings: FindingRegister;
  drift: DriftWatch;
  ct: CtWatch;
  plans: GuidedRotation;
  admission: Admission;
  /** Starts the scheduled watches (drift, CT): on the replica that leads only (docs/scale.md "Replicas"). */
  startWatches(): void;
  /** Stops the scheduled watches (drift, CT). */
  stop(): void;
}

/**
 * Pin lifecycle safety (issue 16), wired once: kill switch, drift and CT watches, guided rotation, admission. Their
 * records (kill switches, rotation plans) are repositories of the registry, so they work on SQLite and PostgreSQL.
 * Every read of the rotation gate stays on the primary (never `registry.reads`).
 */
export async function startLifecycle(d: LifecycleDeps): Promise<Lifecycle> {
  const { config, registry, views, clock, logger, hub, events } = d;
  const { devices, pinsets, coverage, audit, rotations, rollouts } = registry;
  const killSwitch = new KillSwitch({
    store: registry.killSwitches, pinsets, devices, rollouts, driver: d.driver, publisher: d.publisher, trusted: d.trusted,
    delivery: d.delivery, audit, events, hub, clock, logger, validityDays: config.pinsetValidityDays,
  });
  await killSwitch.load();
  const findings = new FindingRegister({ store: registry.findings, events, hub, clock });
  const drift = new DriftWatch(
    { devices, pinsets, coverage, views, fetchPins: d.fetchPins, findings, clock, logger },
    { intervalMs: config.lifecycle.driftIntervalMs, timeoutMs: config.liveCheckTimeoutMs, target: 95 },
  );
  const ct = new CtWatch(
    { pinsets, coverage, views, findings, store: registry.ctLogs, clock, logger },
    config.lifecycle.ctLogs.map(parseCtLog),
    { intervalMs: config.lifecycle.ctIntervalMs, timeoutMs: 10_000 },
  );
  const plans = new GuidedRotation({
    plans: registry.rotationPlans, devices, coverage, views, pinsets, publisher: d.publisher, rollouts, driver: d.driver, rotations, audit,
    hub, clock, logger, rolloutDefaults: d.rolloutDefaults,
  });
  plans.attach(drift);
  const admission = new Admission({ devices, pinsets, coverage, views, audit, clock });
  return {
    killSwitch, findings, drift, ct, plans, admission,
    startWatches: () => {
      drift.start();
      ct.start();
    },
    stop: () => {
      drift.stop();
      ct.stop();
    },
  };
}
