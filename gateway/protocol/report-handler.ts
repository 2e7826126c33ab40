import { decodeReport, formatPin } from '../../shared/index';
import type { Clock } from '../clock';
import type { IngestWriter } from '../registry/ingest-writer';
import type { EventBus } from '../events/event-bus';
import type { MalformedMessages } from './malformed-messages';

export interface ReportDeps {
  ingest: IngestWriter;
  malformed: MalformedMessages;
  events: EventBus;
  clock: Clock;
}

/** SPEC §6 pin validation report: stored once per device + host + port + device time (idempotent). */
export async function handleReport(deps: ReportDeps, deviceId: string, payload: Uint8Array): Promise<void> {
  const decoded = decodeReport(payload);
  if (!decoded.ok) {
    deps.malformed.record(deviceId, 'report', decoded.error.code, decoded.error.detail);
    return;
  }
  const report = decoded.value;
  const isNew = await deps.ingest.addReport({
    deviceId,
    host: report.host,
    port: report.port,
    result: report.result,
    servedPins: report.servedPins.map(formatPin),
    installedSeq: report.installedSeq,
    deviceTime: report.time,
  });
  if (isNew) deps.events.emit('report', { deviceId, report, at: deps.clock.now() });
}
