import type { PinSetRepo } from '../registry/repositories';
import { decodeAck, toHex } from '../../shared/index';
import type { Clock } from '../clock';
import type { Logger } from '../logger';
import type { IngestWriter } from '../registry/ingest-writer';
import type { EventBus } from '../events/event-bus';
import type { MalformedMessages } from './malformed-messages';
import type { PinSetViews } from '../registry/pinset-views';

export interface AckDeps {
  pinsets: PinSetRepo;
  ingest: IngestWriter;
  malformed: MalformedMessages;
  events: EventBus;
  clock: Clock;
  logger: Logger;
  /**
   * Pin sets by envelope SHA-256, cached (a stored pin set's id, seq and bytes never change): one read per set
   * instead of one per ack. Absent: read from `pinsets` each time.
   */
  views?: Pick<PinSetViews, 'bySha256'>;
}

/**
 * SPEC §6 ack: stored once per device + envelope + status (QoS 1 redelivery is absorbed by the unique index and
 * emits nothing). Resolves after the ack is committed, so the broker acknowledges it only then.
 */
export async function handleAck(deps: AckDeps, deviceId: string, payload: Uint8Array): Promise<void> {
  const decoded = decodeAck(payload);
  if (!decoded.ok) {
    deps.malformed.record(deviceId, 'ack', decoded.error.code, decoded.error.detail);
    return;
  }
  const ack = decoded.value;
  const sha256 = toHex(ack.sha256);
  const pinset = deps.views ? (await deps.views.bySha256(sha256))?.row : await deps.pinsets.getBySha256(sha256);
  const pinsetId = pinset && pinset.seq === ack.seq ? pinset.id : null;
  const isNew = await deps.ingest.addAck({ deviceId, seq: ack.seq, sha256, status: ack.status, code: ack.code ?? null, pinsetId });
  if (!isNew) {
    // a repeated ack (QoS 1 redelivery, or the same verdict after a redelivery): rollouts still want to see it
    deps.events.emit('ackRepeated', { deviceId, ack, pinsetId, at: deps.clock.now() });
    return;
  }
  if (ack.status === 'rejected') deps.logger.warn('device rejected a pin set', { deviceId, seq: ack.seq, code: ack.code ?? null });
  deps.events.emit('ack', { deviceId, ack, pinsetId, at: deps.clock.now() });
}
