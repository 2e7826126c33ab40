import type { Clock } from '../clock';
import { DomainError } from '../errors/domain-error';
import type { BrowserEventStream } from '../events/browser-event-stream';
import type { EventBus } from '../events/event-bus';
import type { Logger } from '../logger';
import type { AuditLog } from '../registry/audit-log';
import type { CoverageStore } from '../registry/coverage-store';
import type { DecommissionStore } from '../registry/decommission-store';
import type { DeviceStore } from '../registry/device-store';

/** Ends a device's live broker session now; false when it had none. What any transport must offer. */
export type RevokeSession = (deviceId: string) => boolean;

export interface DecommissionResult {
  deviceId: string;
  fleet: string;
  decommissioned: boolean;
  /** Whether a live session was closed (decommission only). */
  sessionClosed: boolean;
}

/** A CONNECT whose credential check was in flight at the moment of decommission ends this much later at most. */
const RECHECK_MS = 1000;

/**
 * Retiring a device, reversibly: it leaves every coverage denominator (same transaction as the flag, SPEC §8),
 * its credential stops working (the broker checks the flag at every CONNECT) and its live session is closed at
 * once, its in-flight rollout executions end as DECOMMISSIONED (rollout driver, on the event), and each step is
 * audited. Recommission undoes it: the same credential works again and the device counts again.
 */
export class DeviceDecommission {
  constructor(
    private readonly deps: {
      devices: DeviceStore;
      store: DecommissionStore;
      coverage: CoverageStore;
      audit: AuditLog;
      events: EventBus;
      hub: BrowserEventStream;
      clock: Clock;
      logger: Logger;
      revokeSession: RevokeSession;
    },
  ) {}

  async decommission(deviceId: string, reason: string, actor: string): Promise<DecommissionResult> {
    return this.change(deviceId, true, reason, actor);
  }

  async recommission(deviceId: string, reason: string, actor: string): Promise<DecommissionResult> {
    return this.change(deviceId, false, reason, actor);
  }

  private async change(deviceId: string, retire: boolean, reason: string, actor: string): Promise<DecommissionResult> {
    const { devices, store, coverage, audit, events, hub, clock, revokeSession } = this.deps;
    const device = await devices.get(deviceId);
    if (!device) throw DomainError.notFound(`device "${deviceId}"`);
    const changed = await coverage.withReconcile(deviceId, () => store.set(deviceId, retire));
    if (!changed) {
      throw new DomainError('E_CONFLICT', `device "${deviceId}" is ${retire ? 'already decommissioned' : 'not decommissioned'}`);
    }
    let sessionClosed = false;
    if (retire) {
      sessionClosed = revokeSession(deviceId);
      // a CONNECT authenticated just before the flag changed must not keep a session: look again shortly
      setTimeout(() => {
        if (revokeSession(deviceId)) this.deps.logger.info('late session of a decommissioned device closed', { deviceId });
      }, RECHECK_MS).unref();
    }
    const at = clock.now();
    await audit.append(actor, retire ? 'device.decommission' : 'device.recommission', deviceId, {
      fleet: device.fleet,
      reason,
      ...(retire ? { sessionClosed } : {}),
    });
    events.emit(retire ? 'decommissioned' : 'recommissioned', {
      deviceId,
      fleet: device.fleet,
      deviceClass: device.deviceClass,
      labels: device.labels,
      reason,
      actor,
      at,
    });
    hub.publish({ type: 'device', deviceId, online: false, decommissioned: retire });
    return { deviceId, fleet: device.fleet, decommissioned: retire, sessionClosed };
  }
}
