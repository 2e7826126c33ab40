import { decodeHello, toHex, type Hello } from '../../shared/index';
import type { Clock } from '../clock';
import type { Logger } from '../logger';
import type { AuditLog } from '../registry/audit-log';
import type { CoverageStore } from '../registry/coverage-store';
import type { DeviceRow, DeviceStore } from '../registry/device-store';
import type { KeysetStore } from '../registry/keyset-store';
import type { PinSetRow, PinSetStore } from '../registry/pinset-store';
import type { Delivery } from './delivery';
import type { EventBus } from '../events/event-bus';
import type { MalformedMessages } from './malformed-messages';

const NOTHING_INSTALLED = '0'.repeat(64);

export interface HelloDeps {
  devices: DeviceStore;
  pinsets: PinSetStore;
  keysets: KeysetStore;
  delivery: Delivery;
  malformed: MalformedMessages;
  audit: AuditLog;
  events: EventBus;
  clock: Clock;
  logger: Logger;
  /** Coverage counters, reconciled in the transaction that records the hello (what the device holds). */
  coverage?: CoverageStore;
  /**
   * True for a pin set a staged rollout owns (gateway/rollouts): the rollout delivers it wave by wave, so a
   * hello must not. Sets outside any rollout keep the plain behaviour.
   */
  heldBack?: (pinset: PinSetRow) => boolean;
}

/**
 * SPEC §6 hello (sent on every connect): records what the device holds, flags a device that holds something the
 * gateway never issued, then reconciles: newer keyset documents first, then the pin set it should hold.
 */
export async function handleHello(deps: HelloDeps, deviceId: string, payload: Uint8Array): Promise<void> {
  const decoded = decodeHello(payload);
  if (!decoded.ok) {
    deps.malformed.record(deviceId, 'hello', decoded.error.code, decoded.error.detail);
    return;
  }
  const hello = decoded.value;
  const device = deps.devices.get(deviceId);
  if (!device) return; // authenticated a moment ago; decommissioned/removed since
  const at = deps.clock.now();
  const installedSha256 = toHex(hello.installedSha256);

  const problem = inconsistency(deps, device, hello, installedSha256);
  if (problem !== null) flag(deps, device, problem, at);

  const apply = () =>
    deps.devices.applyHello(deviceId, {
      firmware: hello.firmware,
      installedSeq: hello.installedSeq,
      installedSha256: hello.installedSeq === 0 && installedSha256 === NOTHING_INSTALLED ? null : installedSha256,
      keysetVersion: hello.keysetVersion,
      at,
    });
  if (deps.coverage) deps.coverage.withReconcile(deviceId, apply);
  else apply();

  let deliveredPinSetId: number | null = null;
  if (!device.decommissioned) {
    await deps.delivery.pushKeysets(deviceId, hello.keysetVersion);
    const target = deps.delivery.targetFor(device, deps.heldBack);
    // equal seq with other bytes is already flagged above; re-sending would only earn an E_ROLLBACK
    if (target && target.seq > hello.installedSeq) {
      if (await deps.delivery.publishUpdate(device, target)) deliveredPinSetId = target.id;
    }
  }
  deps.events.emit('hello', { deviceId, hello, deliveredPinSetId, at });
}

/** Why the device's own account of itself does not match the registry, or null. */
function inconsistency(deps: HelloDeps, device: DeviceRow, hello: Hello, installedSha256: string): string | null {
  if (hello.fleet !== device.fleet) return `hello names fleet "${hello.fleet}", device is enrolled in "${device.fleet}"`;
  if (hello.deviceClass !== device.deviceClass) {
    return `hello names device class "${hello.deviceClass}", device is enrolled as "${device.deviceClass}"`;
  }
  if (hello.installedSeq === 0) return null;
  const issued = deps.pinsets.getByFleetSeq(device.fleet, hello.installedSeq);
  if (!issued) return `device reports seq ${hello.installedSeq}, which the gateway never issued for fleet "${device.fleet}"`;
  if (issued.sha256 !== installedSha256) {
    return `device reports seq ${hello.installedSeq} with envelope ${installedSha256.slice(0, 16)}…, the gateway issued ${issued.sha256.slice(0, 16)}…`;
  }
  const current = deps.keysets.current();
  if (current && hello.keysetVersion > current.version) {
    return `device reports keyset v${hello.keysetVersion}, the gateway's newest is v${current.version}`;
  }
  return null;
}

function flag(deps: HelloDeps, device: DeviceRow, reason: string, at: number): void {
  deps.devices.flag(device.id, reason, at);
  // the count grows on every hello; the audit log and the warning record each new reason once
  if (device.flaggedReason !== reason) {
    deps.audit.append('gateway', 'device.flagged', device.id, { reason });
    deps.logger.warn('device flagged', { deviceId: device.id, reason });
  }
  deps.events.emit('flagged', { deviceId: device.id, reason, at });
}
