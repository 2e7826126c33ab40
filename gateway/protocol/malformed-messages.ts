import type { Clock } from '../clock';
import type { Logger } from '../logger';
import type { IngestWriter } from '../registry/ingest-writer';
import type { EventBus } from '../events/event-bus';

/**
 * Malformed device messages are counted per device, topic kind and error code (in the ingest batch), logged at
 * most once per device per window, and otherwise dropped: they never crash or block the gateway.
 */
export class MalformedMessages {
  private readonly lastLogged = new Map<string, number>();
  private readonly suppressed = new Map<string, number>();

  constructor(
    private readonly deps: { ingest: IngestWriter; events: EventBus; logger: Logger; clock: Clock; windowMs: number },
  ) {}

  record(deviceId: string, kind: string, code: string, detail: string): void {
    const { ingest, events, logger, clock, windowMs } = this.deps;
    ingest.countMalformed(deviceId, kind, code, detail);
    const now = clock.now();
    const last = this.lastLogged.get(deviceId);
    if (last === undefined || now - last >= windowMs) {
      const suppressed = this.suppressed.get(deviceId) ?? 0;
      logger.warn('malformed device message', { deviceId, kind, code, detail, ...(suppressed > 0 ? { suppressedSinceLastLog: suppressed } : {}) });
      this.lastLogged.set(deviceId, now);
      this.suppressed.delete(deviceId);
      if (this.lastLogged.size > 100_000) this.prune(now);
    } else {
      this.suppressed.set(deviceId, (this.suppressed.get(deviceId) ?? 0) + 1);
    }
    events.emit('malformed', { deviceId, kind, code, detail, at: now });
  }

  private prune(now: number): void {
    for (const [id, at] of this.lastLogged) if (now - at >= this.deps.windowMs) this.lastLogged.delete(id);
  }
}
