import type { Report } from '../../shared/index';
import { formatPin } from '../../shared/index';

/**
 * Telemetry poisoning guard (issue 17): one compromised device must not be able to move its fleet's mismatch
 * rate. TrustKit-style reporters send the same report at most once a day, so:
 *  - a report equal to one the device sent within `dedupeWindowMs` (same host, port, served pins, installed seq
 *    and result) is a duplicate: acknowledged, not stored, counted;
 *  - at most `maxPerWindow` reports per device per `windowMs` are stored; the excess is acknowledged, not stored,
 *    and counted (as E_RATE on the device, like a malformed message).
 * In memory, bounded (`maxKeys`); a restart forgets it, which at worst lets one more window through.
 */
export interface ReportLimits {
  dedupeWindowMs: number;
  windowMs: number;
  maxPerWindow: number;
  maxKeys: number;
}

export const DEFAULT_REPORT_LIMITS: ReportLimits = {
  dedupeWindowMs: 24 * 3_600_000,
  windowMs: 3_600_000,
  maxPerWindow: 30,
  maxKeys: 500_000,
};

export type ReportVerdict = 'accept' | 'duplicate' | 'over-limit';

export class ReportLimiter {
  private readonly seen = new Map<string, number>();
  private readonly windows = new Map<string, { start: number; count: number }>();
  readonly counts = { accepted: 0, duplicate: 0, overLimit: 0 };
  /** Reports dropped per device (the device page, GET /api/devices/:id `security.reportsDropped`); bounded like the rest. */
  private readonly droppedBy = new Map<string, { duplicate: number; overLimit: number }>();

  constructor(private readonly limits: ReportLimits = DEFAULT_REPORT_LIMITS) {}

  admit(deviceId: string, report: Report, now: number): ReportVerdict {
    const served = report.servedPins.map(formatPin).sort().join(',');
    const key = [deviceId, report.host.toLowerCase(), report.port, served, report.installedSeq, report.result].join('\u0000');
    const last = this.seen.get(key);
    if (last !== undefined && now - last < this.limits.dedupeWindowMs) {
      this.counts.duplicate += 1;
      this.dropped(deviceId).duplicate += 1;
      return 'duplicate';
    }
    let w = this.windows.get(deviceId);
    if (w === undefined || now - w.start >= this.limits.windowMs) {
      w = { start: now, count: 0 };
      this.windows.delete(deviceId);
      this.windows.set(deviceId, w);
    }
    if (w.count >= this.limits.maxPerWindow) {
      this.counts.overLimit += 1;
      this.dropped(deviceId).overLimit += 1;
      return 'over-limit';
    }
    w.count += 1;
    this.seen.delete(key);
    this.seen.set(key, now);
    this.prune(now);
    this.counts.accepted += 1;
    return 'accept';
  }

  /** Reports of one device acknowledged and not stored since start: duplicates and over the cap. */
  droppedFor(deviceId: string): { duplicate: number; overLimit: number } {
    const d = this.droppedBy.get(deviceId);
    return d === undefined ? { duplicate: 0, overLimit: 0 } : { ...d };
  }

  private dropped(deviceId: string): { duplicate: number; overLimit: number } {
    let d = this.droppedBy.get(deviceId);
    if (d === undefined) {
      if (this.droppedBy.size >= this.limits.maxKeys) this.droppedBy.delete(this.droppedBy.keys().next().value as string);
      this.droppedBy.set(deviceId, (d = { duplicate: 0, overLimit: 0 }));
    }
    return d;
  }

  private prune(now: number): void {
    if (this.seen.size <= this.limits.maxKeys && this.windows.size <= this.limits.maxKeys) return;
    for (const [k, at] of this.seen) {
      if (this.seen.size <= this.limits.maxKeys / 2 && now - at < this.limits.dedupeWindowMs) break;
      this.seen.delete(k); // oldest first (insertion order = last accepted)
    }
    for (const [k, w] of this.windows) {
      if (this.windows.size <= this.limits.maxKeys / 2 && now - w.start < this.limits.windowMs) break;
      this.windows.delete(k);
    }
  }
}
