import type Database from 'better-sqlite3';
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/** WAL pages after which the gateway's own connection checkpoints inline (SQLite's default is 1,000). */
export const INLINE_CHECKPOINT_PAGES = 16_384;
/** The same while the checkpointer thread runs: a safety net only (the WAL should never grow that far). */
const SAFETY_CHECKPOINT_PAGES = 262_144;

/**
 * WAL checkpoints off the event loop. A checkpoint copies the WAL's pages back into the database file and fsyncs
 * it; done by the connection that commits (SQLite's autocheckpoint) it is synchronous on the gateway's event loop.
 * A fleet's acks dirty a few random pages per device, so every ack batch ended in a checkpoint: the COMMITs were
 * 32 % of the gateway thread in a 1,000,000-device rollout, and with no checkpoint at all the same 100,000-device
 * rollout took 30 s instead of 38 s (docs/million.md). Here a worker thread with its own connection runs
 * `PRAGMA wal_checkpoint(PASSIVE)` every `everyMs` (PASSIVE never waits for, nor blocks, the gateway's readers
 * and writer; SQLite restarts the WAL from its start once a checkpoint has caught up), and the gateway's connection
 * checkpoints inline only past SAFETY_CHECKPOINT_PAGES. Started `startAfterMs` after opening, so registries that
 * live a moment (tests, tools) never start a thread; if the thread fails, inline checkpoints come back.
 */
export class WalCheckpointer {
  private worker: Worker | null = null;
  private readonly timer: NodeJS.Timeout;
  private stopped = false;

  constructor(
    private readonly client: Database.Database,
    private readonly file: string,
    private readonly options: { everyMs: number; startAfterMs: number } = { everyMs: 500, startAfterMs: 2000 },
  ) {
    client.pragma(`wal_autocheckpoint = ${INLINE_CHECKPOINT_PAGES}`);
    this.timer = setTimeout(() => this.start(), options.startAfterMs);
    this.timer.unref();
  }

  private start(): void {
    if (this.stopped || this.file === ':memory:') return;
    // an eval'd CommonJS worker: it loads the same better-sqlite3 as this module, whatever loader runs the gateway
    const driver = createRequire(import.meta.url).resolve('better-sqlite3');
    const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { driver, file: this.file, everyMs: this.options.everyMs } });
    worker.unref();
    this.worker = worker;
    worker.on('message', (m: unknown) => {
      if (m === 'ready' && !this.stopped && this.client.open) this.client.pragma(`wal_autocheckpoint = ${SAFETY_CHECKPOINT_PAGES}`);
    });
    const fallBack = () => {
      if (this.worker !== worker) return;
      this.worker = null;
      if (this.client.open) this.client.pragma(`wal_autocheckpoint = ${INLINE_CHECKPOINT_PAGES}`);
    };
    worker.on('error', fallBack);
    worker.on('exit', fallBack);
  }

  /** Stops the thread (before the gateway's connection closes: that close checkpoints what is left). */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    const w = this.worker;
    this.worker = null;
    if (w === null) return;
    // the thread closes its connection itself (a terminated thread would keep the file open until the process exits)
    const exited = new Promise<void>((resolve) => w.once('exit', () => resolve()));
    w.postMessage('stop');
    await exited;
  }
}

const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.file, { fileMustExist: true });
parentPort.postMessage('ready');
const timer = setInterval(() => {
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
  } catch {
    // busy or locked: the next round tries again (the gateway's connection checkpoints past its safety limit)
  }
}, workerData.everyMs);
parentPort.on('message', (m) => {
  if (m !== 'stop') return;
  clearInterval(timer);
  db.close();
  parentPort.close();
});
`;
