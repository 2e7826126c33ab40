import type { Registry } from '../registry/registry';
import type { HelloState } from '../registry/rows';

interface Write {
  deviceId: string;
  state: HelloState;
}

interface Pending {
  write: Write;
  resolve: () => void;
  reject: (err: Error) => void;
}

export interface HelloWriterOptions {
  /** A batch is written this long after its first write arrived (unless it filled up before). */
  flushMs: number;
  /** Writes per transaction at most. */
  maxRows: number;
}

/**
 * Group commit of SPEC §6 hellos: what each device holds, with its coverage counters reconciled in the same
 * transaction (as `handleHello` promises), one transaction per batch instead of one per device: with thousands of
 * devices connecting at once, a transaction each queued them behind one another on SQLite's one connection — 2,800
 * hellos/s at a million devices (docs/million.md). Each write resolves only after its batch committed (the broker's
 * PUBACK and the hello's delivery decision wait for it, as with the ingest writer); a failed batch rejects every
 * write in it (nothing of it was committed: the device says hello again on its next connection). One batch in
 * flight at a time; writes that arrive meanwhile form the next. (Presence has its own per-turn batch:
 * presence-writer.ts.)
 *
 * SQLite only, like presence-writer.ts: on PostgreSQL a batch of row-by-row statements would hold one pooled
 * connection for thousands of round trips while the acks' group commits wait for the pool; there each hello stays
 * a transaction of its own on any pooled connection, as before.
 */
export class HelloWriter {
  private buf: Pending[] = [];
  private timer: NodeJS.Timeout | null = null;
  private writing: Promise<void> | null = null;
  private closed = false;

  constructor(
    private readonly registry: Pick<Registry, 'transaction' | 'dialect'>,
    private readonly options: HelloWriterOptions,
  ) {}

  /** The hello's device state and its coverage counters, committed together. */
  hello(deviceId: string, state: HelloState): Promise<void> {
    if (this.registry.dialect !== 'sqlite') {
      if (this.closed) return Promise.reject(new Error('hello writer is closed'));
      return this.registry.transaction(async (tx) => {
        await tx.devices.applyHello(deviceId, state);
        await tx.coverage.reconcile(deviceId);
      });
    }
    return this.add({ deviceId, state });
  }

  private add(write: Write): Promise<void> {
    if (this.closed) return Promise.reject(new Error('hello writer is closed'));
    return new Promise<void>((resolve, reject) => {
      this.buf.push({ write, resolve, reject });
      if (this.buf.length >= this.options.maxRows) void this.drain();
      else this.schedule();
    });
  }

  private schedule(): void {
    if (this.timer === null) this.timer = setTimeout(() => void this.drain(), this.options.flushMs);
  }

  /** Writes batch after batch until nothing is buffered (one drain at a time; a second call joins it). */
  private async drain(): Promise<void> {
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    if (this.writing !== null) return this.writing;
    const run = (async () => {
      while (this.buf.length > 0) await this.writeOne(this.buf.splice(0, this.options.maxRows));
    })();
    this.writing = run;
    try {
      await run;
    } finally {
      this.writing = null;
      // writes that arrived after the loop's last look (a resolved write's caller adds the device's next one)
      if (this.buf.length > 0) this.schedule();
    }
  }

  private async writeOne(batch: Pending[]): Promise<void> {
    // every device row first, then the counters (the order the ingest's batches take them in); one device's
    // hellos keep their arrival order (each device sends its next message only after this one committed)
    const writes = batch.map((p) => p.write);
    try {
      await this.registry.transaction(async (tx) => {
        for (const w of writes) await tx.devices.applyHello(w.deviceId, w.state);
        for (const w of writes) await tx.coverage.reconcile(w.deviceId);
      });
      for (const p of batch) p.resolve();
    } catch (err) {
      for (const p of batch) p.reject(err as Error);
    }
  }

  /** Writes what is buffered and refuses further writes. */
  async close(): Promise<void> {
    this.closed = true;
    await this.drain();
  }
}
