import { decodeReport, formatPin } from '../../shared/index';
import type { Clock } from '../clock';
import type { IngestWriter } from '../registry/ingest-writer';
import type { EventBus } from '../events/event-bus';
import type { MalformedMessages } from './malformed-messages';
import type { ReportLimiter } from './report-limiter';

export interface ReportDeps {
  ingest: IngestWriter;
  malformed: MalformedMessages;
  events: EventBus;
  clock: Clock;
  /** Per-device dedupe and cap (issue 17); absent = every new report is stored. */
  reportLimiter?: ReportLimiter;
}

/** SPEC §6 pin validation report: stored once per device + host + port + device time (idempotent). */
export async function handleReport(deps: ReportDeps, deviceId: string, payload: Uint8Array): Promise<void> {
  const decoded = decodeReport(payload);
  if (!decoded.ok) {
    deps.malformed.record(deviceId, 'report', decoded.error.code, decoded.error.detail);
    return;
  }
  const report = decoded.value;
  const verdict = deps.reportLimiter?.admit(deviceId, report, deps.clock.now()) ?? 'accept';
  if (verdict === 'over-limit') {
    // acknowledged (a device must not resend it forever) but neither stored nor counted in telemetry
    deps.malformed.record(deviceId, 'report', 'E_RATE', `over the per-device report limit, not stored (${report.host})`);
    return;
  }
  if (verdict === 'duplicate') return; // the same report within a day (TrustKit sends one a day): counted only
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
