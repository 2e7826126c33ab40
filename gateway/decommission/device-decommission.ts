import type { Clock } from '../clock';
import { DomainError } from '../errors/domain-error';
import type { BrowserEventStream } from '../events/browser-event-stream';
import type { EventBus } from '../events/event-bus';
import type { Logger } from '../logger';
import type { Registry } from '../registry/registry';
import type { DeviceCredentials, DevicePublisher } from '../transport/device-transport';


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
      registry: Registry;
      events: EventBus;
      hub: BrowserEventStream;
      clock: Clock;
      logger: Logger;
      /** The transport's credentials: revoked = refused at the broker and live session closed; provisioned = accepted again. */
      credentials: Pick<DeviceCredentials, 'revoked' | 'provisioned'>;
      publisher: Pick<DevicePublisher, 'isConnected'>;
    },
  ) {}

  async decommission(deviceId: string, reason: string, actor: string): Promise<DecommissionResult> {
    return this.change(deviceId, true, reason, actor);
  }

  async recommission(deviceId: string, reason: string, actor: string): Promise<DecommissionResult> {
    return this.change(deviceId, false, reason, actor);
  }

  private async change(deviceId: string, retire: boolean, reason: string, actor: string): Promise<DecommissionResult> {
    const { registry, events, hub, clock, credentials, publisher } = this.deps;
    // the flag and the coverage counters change in one unit of work: the device leaves (or rejoins) every denominator
    const device = await registry.transaction(async (tx) => {
      const d = await tx.devices.get(deviceId);
      if (!d) throw DomainError.notFound(`device "${deviceId}"`);
      if (d.decommissioned === retire) {
        throw new DomainError('E_CONFLICT', `device "${deviceId}" is ${retire ? 'already decommissioned' : 'not decommissioned'}`);
      }
      await (retire ? tx.devices.setDecommissioned(deviceId) : tx.devices.setRecommissioned(deviceId));
      await tx.coverage.reconcile(deviceId);
      return d;
    });
    let sessionClosed = false;
    if (retire) {
      sessionClosed = await publisher.isConnected(deviceId);
      await credentials.revoked(deviceId);
      // a CONNECT authenticated just before the flag changed must not keep a session: look again shortly
      setTimeout(() => {
        void (async () => {
          if (!(await publisher.isConnected(deviceId))) return;
          await credentials.revoked(deviceId);
          this.deps.logger.info('late session of a decommissioned device closed', { deviceId });
        })().catch((err: unknown) => this.deps.logger.error('decommission re-check failed', { deviceId, error: String(err) }));
      }, RECHECK_MS).unref();
    } else {
      credentials.provisioned(deviceId); // the broker accepts the same credential again (within seconds)
    }
    const at = clock.now();
    await registry.audit.append(actor, retire ? 'device.decommission' : 'device.recommission', deviceId, {
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
