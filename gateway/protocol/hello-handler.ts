import type { Registry } from '../registry/registry';
import type { AuditRepo, DeviceRepo, KeysetRepo, PinSetRepo } from '../registry/repositories';
import type { DeviceRow, PinSetRow } from '../registry/rows';
import { decodeHello, toHex, type Hello } from '../../shared/index';
import type { Clock } from '../clock';
import type { Logger } from '../logger';
import type { Delivery } from './delivery';
import type { EventBus } from '../events/event-bus';
import type { MalformedMessages } from './malformed-messages';
import type { HelloWriter } from './hello-writer';

const NOTHING_INSTALLED = '0'.repeat(64);

export interface HelloDeps {
  devices: DeviceRepo;
  pinsets: PinSetRepo;
  keysets: KeysetRepo;
  delivery: Delivery;
  malformed: MalformedMessages;
  audit: AuditRepo;
  events: EventBus;
  clock: Clock;
  logger: Logger;
  /** The unit of work: the hello and the device's coverage counters commit together (what the device holds). */
  registry?: Pick<Registry, 'transaction'>;
  /** The same unit of work, group-committed with other devices' (hello-writer.ts); preferred when given. */
  helloWriter?: HelloWriter;
  /**
   * True for a pin set a staged rollout owns (gateway/rollouts): the rollout delivers it wave by wave, so a
   * hello must not. Sets outside any rollout keep the plain behaviour.
   */
  heldBack?: (pinset: PinSetRow) => Promise<boolean>;
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
  const device = await deps.devices.get(deviceId);
  if (!device) return; // authenticated a moment ago; decommissioned/removed since
  const at = deps.clock.now();
  const installedSha256 = toHex(hello.installedSha256);

  const problem = await inconsistency(deps, device, hello, installedSha256);
  if (problem !== null) await flag(deps, device, problem, at);

  const state = {
    firmware: hello.firmware,
    installedSeq: hello.installedSeq,
    installedSha256: hello.installedSeq === 0 && installedSha256 === NOTHING_INSTALLED ? null : installedSha256,
    keysetVersion: hello.keysetVersion,
    at,
  };
  if (deps.helloWriter) await deps.helloWriter.hello(deviceId, state);
  else if (deps.registry) {
    await deps.registry.transaction(async (tx) => {
      await tx.devices.applyHello(deviceId, state);
      await tx.coverage.reconcile(deviceId);
    });
  } else await deps.devices.applyHello(deviceId, state);

  let deliveredPinSetId: number | null = null;
  if (!device.decommissioned) {
    await deps.delivery.pushKeysets(deviceId, hello.keysetVersion);
    const target = await deps.delivery.targetFor(device, deps.heldBack);
    // equal seq with other bytes is already flagged above; re-sending would only earn an E_ROLLBACK
    if (target && target.seq > hello.installedSeq) {
      if (await deps.delivery.publishUpdate(device, target)) deliveredPinSetId = target.id;
    }
  }
  deps.events.emit('hello', { deviceId, hello, deliveredPinSetId, at });
}

/** Why the device's own account of itself does not match the registry, or null. */
async function inconsistency(deps: HelloDeps, device: DeviceRow, hello: Hello, installedSha256: string): Promise<string | null> {
  if (hello.fleet !== device.fleet) return `hello names fleet "${hello.fleet}", device is enrolled in "${device.fleet}"`;
  if (hello.deviceClass !== device.deviceClass) {
    return `hello names device class "${hello.deviceClass}", device is enrolled as "${device.deviceClass}"`;
  }
  if (hello.installedSeq === 0) return null;
  const issued = await deps.pinsets.getByFleetSeq(device.fleet, hello.installedSeq);
  if (!issued) return `device reports seq ${hello.installedSeq}, which the gateway never issued for fleet "${device.fleet}"`;
  if (issued.sha256 !== installedSha256) {
    return `device reports seq ${hello.installedSeq} with envelope ${installedSha256.slice(0, 16)}…, the gateway issued ${issued.sha256.slice(0, 16)}…`;
  }
  const current = await deps.keysets.current();
  if (current && hello.keysetVersion > current.version) {
    return `device reports keyset v${hello.keysetVersion}, the gateway's newest is v${current.version}`;
  }
  return null;
}

async function flag(deps: HelloDeps, device: DeviceRow, reason: string, at: number): Promise<void> {
  await deps.devices.flag(device.id, reason, at);
  // the count grows on every hello; the audit log and the warning record each new reason once
  if (device.flaggedReason !== reason) {
    await deps.audit.append('gateway', 'device.flagged', device.id, { reason });
    deps.logger.warn('device flagged', { deviceId: device.id, reason });
  }
  deps.events.emit('flagged', { deviceId: device.id, reason, at });
}
