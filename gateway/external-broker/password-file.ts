import { readFileSync } from 'node:fs';
import { open, rename, unlink } from 'node:fs/promises';
import { isPbkdf2Hash } from '../auth/device-credentials';
import type { Logger } from '../logger';

export interface CredentialRow {
  deviceId: string;
  hash: string;
}

export interface PasswordFileOptions {
  /** The file Mosquitto's `password_file` names. */
  file: string;
  /** Mosquitto's `pid_file`: SIGHUP makes it re-read the password and ACL files. */
  pidFile: string;
  /** At most one rewrite + reload per this many ms. */
  minIntervalMs: number;
}

export interface PasswordFileDeps {
  /** Every device the broker should accept, with its stored hash (the registry is the source of truth). */
  list: () => AsyncIterable<CredentialRow>;
  /** The gateway's own backend user line(s), written first. */
  backendLines: () => string[];
  logger: Logger;
}

/**
 * Keeps a Mosquitto password file (`mosquitto_passwd` format, one `user:$7$…` line per device) equal to the
 * registry, so the broker checks each CONNECT itself, with no round trip to the gateway (docs/scale.md
 * "Credentials"). The file is rebuilt from the registry (any replica can do it, none holds state), written to a
 * temporary file and renamed over the old one (atomic on POSIX: Mosquitto never reads half a file), then the
 * broker gets SIGHUP. Changes arriving meanwhile are coalesced: at most one rewrite per `minIntervalMs`, because
 * each reload re-reads every user (~1 s at 100k users, docs/library-notes.md "Scale-out parts").
 *
 * Devices whose stored hash is not in the `$7$` form (enrolled for the embedded broker, scrypt) cannot be
 * checked by Mosquitto: they are left out and counted (`skipped`), and must be re-enrolled.
 */
export class MosquittoPasswordFile {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private dirty = false;
  private lastRun = 0;
  private closed = false;
  /** What the last rewrite wrote, for logs and tests. */
  last: { devices: number; skipped: number; writeMs: number } | null = null;

  constructor(
    private readonly options: PasswordFileOptions,
    private readonly deps: PasswordFileDeps,
  ) {}

  /** A device was enrolled or revoked: rewrite soon (coalesced). */
  request(): void {
    this.dirty = true;
    if (this.timer !== null || this.closed) return;
    const wait = Math.max(0, this.lastRun + this.options.minIntervalMs - Date.now());
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.flush().catch((err: unknown) => {
        this.deps.logger.error('broker password file not rewritten', { file: this.options.file, error: String(err) });
        this.request(); // try again after the interval
      });
    }, wait);
  }

  /** Rewrites the file and reloads the broker now (start-up, and the timer); resolves once the signal is sent. */
  async flush(): Promise<void> {
    while (this.running !== null) await this.running;
    this.dirty = false;
    this.running = this.rewrite().finally(() => {
      this.running = null;
      this.lastRun = Date.now();
    });
    await this.running;
    if (this.dirty && !this.closed) this.request();
  }

  close(): void {
    this.closed = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }

  private async rewrite(): Promise<void> {
    const started = Date.now();
    const pid = brokerPid(this.options.pidFile); // before anything is written: no broker, no change
    const tmp = `${this.options.file}.${process.pid}.tmp`;
    const out = await open(tmp, 'w', 0o600);
    let devices = 0;
    let skipped = 0;
    try {
      let chunk = this.deps.backendLines().map((l) => `${l}\n`).join('');
      for await (const row of this.deps.list()) {
        if (!isPbkdf2Hash(row.hash)) {
          skipped++;
          continue;
        }
        chunk += `${row.deviceId}:${row.hash}\n`;
        devices++;
        if (chunk.length > 65_536) {
          await out.write(chunk);
          chunk = '';
        }
      }
      await out.write(chunk);
      await out.sync();
    } catch (err) {
      await out.close();
      await unlink(tmp).catch(() => {});
      throw err;
    }
    await out.close();
    await rename(tmp, this.options.file);
    process.kill(pid, 'SIGHUP');
    this.last = { devices, skipped, writeMs: Date.now() - started };
    if (skipped > 0) this.deps.logger.warn('devices without a broker-checkable credential (re-enrol them)', { skipped });
    this.deps.logger.info('broker password file rewritten', { devices, skipped, ms: this.last.writeMs });
  }
}

function brokerPid(pidFile: string): number {
  let text: string;
  try {
    text = readFileSync(pidFile, 'utf8');
  } catch (err) {
    throw new Error(`cannot read the broker pid file ${pidFile}: ${(err as Error).message}`);
  }
  const pid = Number(text.trim());
  if (!Number.isInteger(pid) || pid <= 1) throw new Error(`no broker pid in ${pidFile}`);
  return pid;
}

/** SIGHUP to the broker named by its pid file: Mosquitto re-reads password_file, acl_file and its certificates. */
export function signalReload(pidFile: string): void {
  process.kill(brokerPid(pidFile), 'SIGHUP');
}
