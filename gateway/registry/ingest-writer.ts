import type { Clock } from '../clock';
import type { IngestAck, IngestMalformed, IngestRepo, IngestReport } from './repositories';

export type AckRow = Omit<IngestAck, 'at'>;
export type ReportRow = Omit<IngestReport, 'at'>;

interface Pending<T> {
  row: T;
  resolve: (isNew: boolean) => void;
  reject: (err: Error) => void;
}

export interface IngestOptions {
  flushMs: number;
  maxRows: number;
}

/**
 * Group commit in front of the storage: buffers acks, reports, malformed-message counts and last-seen times, and
 * hands them to `IngestRepo.writeBatch` (one transaction) every `flushMs` or `maxRows` rows (docs/library-notes.md:
 * batched statements are ~15× faster than autocommit). Each add resolves after its row is committed, with whether
 * the row was new, so the broker sends the PUBACK only then. One batch is in flight at a time: rows that arrive
 * meanwhile form the next one (the ordering of one device's acks is kept).
 * close() flushes what is buffered: nothing accepted is lost on stop.
 */
export class IngestWriter {
  private ackBuf: Pending<IngestAck>[] = [];
  private reportBuf: Pending<IngestReport>[] = [];
  private malformed = new Map<string, IngestMalformed>();
  private seen = new Map<string, number>();
  private timer: NodeJS.Timeout | null = null;
  private closed = false;
  /** The batch being written, if any. */
  private writing: Promise<void> | null = null;
  /** A flush is writing batch after batch until the buffer is empty. */
  private draining = false;

  constructor(
    private readonly repo: IngestRepo,
    private readonly clock: Clock,
    private readonly options: IngestOptions,
  ) {}

  addAck(row: AckRow): Promise<boolean> {
    return this.enqueue(this.ackBuf, { ...row, at: this.clock.now() });
  }

  addReport(row: ReportRow): Promise<boolean> {
    return this.enqueue(this.reportBuf, { ...row, at: this.clock.now() });
  }

  countMalformed(deviceId: string, kind: string, code: string, detail: string): void {
    const key = `${deviceId}\u0000${kind}\u0000${code}`;
    const at = this.clock.now();
    const m = this.malformed.get(key);
    if (m) {
      m.count++;
      m.lastAt = at;
      m.lastDetail = detail;
    } else {
      this.malformed.set(key, { deviceId, kind, code, count: 1, lastAt: at, lastDetail: detail });
    }
    this.touch(deviceId);
  }

  /** Records that a device was heard from (written with the next batch). */
  touch(deviceId: string): void {
    this.seen.set(deviceId, this.clock.now());
    this.schedule();
  }

  private enqueue<T extends { deviceId: string; at: number }>(buf: Pending<T>[], row: T): Promise<boolean> {
    if (this.closed) return Promise.reject(new Error('ingest writer is closed'));
    return new Promise<boolean>((resolve, reject) => {
      buf.push({ row, resolve, reject });
      this.seen.set(row.deviceId, row.at);
      // a full batch goes at once; one drain at a time (it takes later full batches too, in order)
      if (this.ackBuf.length + this.reportBuf.length >= this.options.maxRows) {
        if (!this.draining) void this.flush();
      } else this.schedule();
    });
  }

  private schedule(): void {
    if (this.timer === null && !this.closed) this.timer = setTimeout(() => void this.flush(), this.options.flushMs);
  }

  /** Writes everything buffered (after the batch in flight), in transactions of at most maxRows rows. */
  async flush(): Promise<void> {
    this.draining = true;
    try {
      do await this.writeOne();
      while (this.ackBuf.length + this.reportBuf.length > 0);
    } finally {
      this.draining = false;
    }
  }

  /** One transaction of at most maxRows rows, then settles its waiting promises. */
  private async writeOne(): Promise<void> {
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    while (this.writing !== null) await this.writing;
    if (this.ackBuf.length === 0 && this.reportBuf.length === 0 && this.malformed.size === 0 && this.seen.size === 0) return;
    // at most maxRows rows per transaction (rows that arrived while the last batch was written wait for the next)
    const ackBuf = this.ackBuf.splice(0, this.options.maxRows);
    const reportBuf = this.reportBuf.splice(0, this.options.maxRows - ackBuf.length);
    const batch = { acks: ackBuf.map((p) => p.row), reports: reportBuf.map((p) => p.row), malformed: [...this.malformed.values()], seen: this.seen };
    this.malformed = new Map();
    this.seen = new Map();
    const write = (async () => {
      try {
        const result = await this.repo.writeBatch(batch);
        ackBuf.forEach((p, i) => p.resolve(result.acks[i] ?? false));
        reportBuf.forEach((p, i) => p.resolve(result.reports[i] ?? false));
      } catch (err) {
        // nothing of this batch was committed: fail the waiters (their PUBACK is withheld, the device redelivers)
        ackBuf.forEach((p) => p.reject(err as Error));
        reportBuf.forEach((p) => p.reject(err as Error));
      }
    })();
    this.writing = write;
    try {
      await write;
    } finally {
      this.writing = null;
    }
  }

  /** Flushes and refuses further rows. */
  async close(): Promise<void> {
    this.closed = true;
    await this.flush();
  }
}
