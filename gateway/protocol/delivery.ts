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
    const assigned = device.assignedPinSetId === null ? undefined : await pinsets.get(device.assignedPinSetId);
    const plan = this.plan(device, pinset, assigned);
    if (!plan.ok) return plan;
    if (plan.assign) await devices.assign(deviceId, pinsetId, clock.now());
    return this.finish(device, pinset, plan.installed);
  }

  /**
   * `deliver` of one pin set to many devices (a rollout's chunk of a wave): the same checks and results, with one
   * read of the devices and one write of their assignments for the whole chunk instead of several statements per
   * device (docs/million.md). The assignments commit before any device is sent the set, as in `deliver`.
   */
  async deliverMany(deviceIds: readonly string[], pinset: PinSetRow): Promise<DeliverResult[]> {
    const { devices, pinsets, clock } = this.deps;
    const byId = new Map((await devices.getMany(deviceIds)).map((d) => [d.id, d] as const));
    // the sets the devices hold assigned now: a handful of distinct ones per chunk, each read once
    const assignedSets = new Map<number, PinSetRow | undefined>([[pinset.id, pinset]]);
    const plans: { device: DeviceRow; installed: boolean }[] = [];
    const results = new Map<string, DeliverResult>();
    const toAssign: string[] = [];
    for (const deviceId of deviceIds) {
      const device = byId.get(deviceId);
      if (device === undefined) {
        results.set(deviceId, { ok: false, deviceId, pinsetId: pinset.id, reason: 'unknown-device' });
        continue;
      }
      const a = device.assignedPinSetId;
      if (a !== null && !assignedSets.has(a)) assignedSets.set(a, await pinsets.get(a));
      const plan = this.plan(device, pinset, a === null ? undefined : assignedSets.get(a));
      if (!plan.ok) {
        results.set(deviceId, plan);
        continue;
      }
      if (plan.assign) toAssign.push(deviceId);
      plans.push({ device, installed: plan.installed });
    }
    if (toAssign.length > 0) await devices.assignMany(toAssign, pinset.id, clock.now());
    // published side by side, as the rollout's deliveries were (a publish may wait on the broker); a publish that
    // fails leaves that device 'queued' (assigned: its next hello, or the engine's retry, sends the set again)
    const finished = await Promise.all(
      plans.map((p) =>
        this.finish(p.device, pinset, p.installed).catch((err: unknown): DeliverResult => {
          this.deps.logger.warn('pin set publish failed', { deviceId: p.device.id, pinsetId: pinset.id, error: String(err) });
          return { ok: true, deviceId: p.device.id, pinsetId: pinset.id, status: 'queued' };
        }),
      ),
    );
    for (const r of finished) results.set(r.deviceId, r);
    return deviceIds.map((id) => results.get(id) as DeliverResult);
  }

  /** What delivering `pinset` to `device` takes: a refusal, or whether to assign it and whether the device has it. */
  private plan(
    device: DeviceRow,
    pinset: PinSetRow,
    assigned: PinSetRow | undefined,
  ): Extract<DeliverResult, { ok: false }> | { ok: true; assign: boolean; installed: boolean } {
    const fail = (reason: Extract<DeliverResult, { ok: false }>['reason']) => ({ ok: false as const, deviceId: device.id, pinsetId: pinset.id, reason });
    if (device.decommissioned) return fail('decommissioned');
    if (!pinsetTargets(pinset, device)) return fail('not-targeted');
    if (pinset.notAfter < Math.floor(this.deps.clock.now() / 1000)) return fail('expired');
    return { ok: true, assign: !assigned || assigned.seq <= pinset.seq, installed: device.installedSeq >= pinset.seq };
  }

  private async finish(device: DeviceRow, pinset: PinSetRow, installed: boolean): Promise<DeliverResult> {
    const base = { ok: true as const, deviceId: device.id, pinsetId: pinset.id };
    if (installed) return { ...base, status: 'already-installed' };
    // an offline device is 'queued': the assignment makes its next hello deliver the set
    const published = await this.publishUpdate(device, pinset);
    return { ...base, status: published ? 'published' : 'queued' };
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
