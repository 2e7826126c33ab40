import type { Registry, RegistryTx } from '../registry/registry';
import type { HelloState } from '../registry/rows';

type Write = { kind: 'presence'; deviceId: string; online: boolean; at: number } | { kind: 'hello'; deviceId: string; state: HelloState };

interface Pending {
  write: Write;
  resolve: () => void;
  reject: (err: Error) => void;
}

export interface DeviceStateWriterOptions {
  /** A batch is written this long after its first write arrived (unless it filled up before). */
  flushMs: number;
  /** Writes per transaction at most. */
  maxRows: number;
}

/**
 * Group commit of the writes every connection makes before any ack: presence (online/offline, last seen) and the
 * SPEC §6 hello (what the device holds, with its coverage counters reconciled in the same transaction, as
 * `handleHello` promises). One transaction per batch instead of one per device: with thousands of devices
 * connecting at once, a transaction each serialised them behind one another (SQLite: one connection; PostgreSQL: a
 * round trip per BEGIN/COMMIT) — 2,800 hellos/s at a million devices (docs/million.md). Each write resolves only
 * after its batch committed (the broker's PUBACK waits for it, as with the ingest writer); a failed batch rejects
 * every write in it (nothing of it was committed: the device says hello again on its next connection).
 * One batch in flight at a time; writes that arrive meanwhile form the next, so one device's writes keep their order.
 */
export class DeviceStateWriter {
  private buf: Pending[] = [];
  private timer: NodeJS.Timeout | null = null;
  private writing: Promise<void> | null = null;
  private closed = false;

  constructor(
    private readonly registry: Pick<Registry, 'transaction'>,
    private readonly options: DeviceStateWriterOptions,
  ) {}

  presence(deviceId: string, online: boolean, at: number): Promise<void> {
    return this.add({ kind: 'presence', deviceId, online, at });
  }

  /** The hello's device state and its coverage counters, committed together. */
  hello(deviceId: string, state: HelloState): Promise<void> {
    return this.add({ kind: 'hello', deviceId, state });
  }

  private add(write: Write): Promise<void> {
    if (this.closed) return Promise.reject(new Error('device state writer is closed'));
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
    // Lock order (PostgreSQL): every device row first, in id order, then the counter rows — the order the ingest's
    // batches take them in (pg-ingest.ts), so a hello batch and an ack batch never wait for each other in a cycle.
    // The sort is stable: one device's presence and hello keep their arrival order.
    const writes = batch.map((p) => p.write).sort((a, b) => (a.deviceId < b.deviceId ? -1 : a.deviceId > b.deviceId ? 1 : 0));
    try {
      await this.registry.transaction(async (tx) => {
        for (const w of writes) await apply(tx, w);
        for (const w of writes) if (w.kind === 'hello') await tx.coverage.reconcile(w.deviceId);
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

function apply(tx: RegistryTx, w: Write): Promise<void> {
  return w.kind === 'presence' ? tx.devices.setOnline(w.deviceId, w.online, w.at) : tx.devices.applyHello(w.deviceId, w.state);
}
