import type { DeviceRepo, KeysetRepo, PinSetRepo } from '../registry/repositories';
import type { DeviceRow, PinSetRow } from '../registry/rows';
import type { PinSetJson, TopicKind } from '../../shared/index';
import type { Clock } from '../clock';
import type { Logger } from '../logger';
import type { EventBus } from '../events/event-bus';
import type { DevicePublisher } from '../transport/device-transport';

export type DeliverResult =
  | { ok: true; deviceId: string; pinsetId: number; status: 'published' | 'queued' | 'already-installed' }
  | { ok: false; deviceId: string; pinsetId: number; reason: 'unknown-device' | 'unknown-pinset' | 'decommissioned' | 'not-targeted' | 'expired' };

export function pinsetTargets(pinset: PinSetRow, device: Pick<DeviceRow, 'id' | 'fleet' | 'deviceClass'>): boolean {
  const target = (pinset.json as PinSetJson).target;
  if (pinset.fleet !== device.fleet) return false;
  if (target.deviceClasses !== undefined && !target.deviceClasses.includes(device.deviceClass)) return false;
  if (target.deviceIds !== undefined && !target.deviceIds.includes(device.id)) return false;
  return true;
}

/**
 * Delivery of signed pin sets and keyset documents to single devices. `deliver(deviceId, pinsetId)` is the unit
 * the rollout engine drives; it records the assignment so a device that is offline (or misses the message) gets
 * the set in answer to its next hello.
 */
export class Delivery {
  constructor(
    private readonly deps: {
      devices: DeviceRepo;
      pinsets: PinSetRepo;
      keysets: KeysetRepo;
      publisher: DevicePublisher;
      events: EventBus;
      clock: Clock;
      logger: Logger;
    },
  ) {}

  async deliver(deviceId: string, pinsetId: number): Promise<DeliverResult> {
    const { devices, pinsets, clock } = this.deps;
    const device = await devices.get(deviceId);
    if (!device) return { ok: false, deviceId, pinsetId, reason: 'unknown-device' };
    const pinset = await pinsets.get(pinsetId);
    if (!pinset) return { ok: false, deviceId, pinsetId, reason: 'unknown-pinset' };
    if (device.decommissioned) return { ok: false, deviceId, pinsetId, reason: 'decommissioned' };
    if (!pinsetTargets(pinset, device)) return { ok: false, deviceId, pinsetId, reason: 'not-targeted' };
    if (pinset.notAfter < Math.floor(clock.now() / 1000)) return { ok: false, deviceId, pinsetId, reason: 'expired' };
    const assigned = device.assignedPinSetId === null ? undefined : await pinsets.get(device.assignedPinSetId);
    if (!assigned || assigned.seq <= pinset.seq) await devices.assign(deviceId, pinsetId, clock.now());
    if (device.installedSeq >= pinset.seq) {
      return { ok: true, deviceId, pinsetId, status: 'already-installed' };
    }
    // an offline device is 'queued': the assignment above makes its next hello deliver the set
    const published = await this.publishUpdate(device, pinset);
    return { ok: true, deviceId, pinsetId, status: published ? 'published' : 'queued' };
  }

  /**
   * The pin set a device should hold: the newest of the set assigned to it and the set released to its fleet,
   * when it targets the device, has not expired and is not held back by a staged rollout.
   */
  async targetFor(device: DeviceRow, heldBack: (pinset: PinSetRow) => Promise<boolean> = async () => false): Promise<PinSetRow | undefined> {
    const { pinsets, clock } = this.deps;
    const nowSeconds = Math.floor(clock.now() / 1000);
    // `heldBack`: sets a staged rollout owns are sent by the rollout, wave by wave, never by a hello
    const candidates: PinSetRow[] = [];
    for (const p of [
      device.assignedPinSetId === null ? undefined : await pinsets.get(device.assignedPinSetId),
      await pinsets.latestReleasedFor(device.fleet),
    ]) {
      if (p !== undefined && pinsetTargets(p, device) && p.notAfter >= nowSeconds && !(await heldBack(p))) candidates.push(p);
    }
    return candidates.sort((a, b) => b.seq - a.seq)[0];
  }

  /** Publishes the update when the device is connected; returns whether it was published. */
  async publishUpdate(device: Pick<DeviceRow, 'id'>, pinset: PinSetRow): Promise<boolean> {
    const { publisher, events, clock } = this.deps;
    const published = await publisher.isConnected(device.id);
    if (published) await publisher.publish(device.id, 'update', pinset.envelope);
    events.emit('delivered', { deviceId: device.id, pinsetId: pinset.id, seq: pinset.seq, published, at: clock.now() });
    return published;
  }

  /** Sends the signed keyset documents newer than the device's version, oldest first (SPEC §5: current + 1 only). */
  async pushKeysets(deviceId: string, deviceVersion: number): Promise<number> {
    const { keysets, publisher } = this.deps;
    let sent = 0;
    for (const row of await keysets.newerThan(deviceVersion)) {
      if (row.envelope === null) continue; // the first keyset is provisioned at manufacture
      await publisher.publish(deviceId, 'keyset', row.envelope);
      sent++;
    }
    return sent;
  }
}
