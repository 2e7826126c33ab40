import { toBase64 } from '../../shared/index';
import type { Clock } from '../clock';
import { currentSets } from '../drift-watch/current-sets';
import type { Finding, FindingRegister } from '../findings/finding-register';
import type { Logger } from '../logger';
import type { CtLogStateRepo } from '../registry/ct-log-state-repo';
import type { CoverageRepo, PinSetRepo } from '../registry/repositories';
import type { PinSetViews } from '../registry/pinset-views';
import { CtClient, verifySth, type CtLog } from './ct-client';
import { parseEntry, type LoggedCertificate } from './ct-entry';
import { classifyMismatch, coveredHosts, ctFindings, watchedHosts, type MismatchClass } from './ct-rules';
import { leafHash, MerkleFrontier } from './merkle';
import { RepeatingJob } from '../repeating-job';

/** get-entries asks for at most this many entries at once (logs cap it lower; the client pages on). */
const BATCH = 256;

export interface CtLogRun {
  log: string;
  ok: boolean;
  treeSize: number;
  fetched: number;
  kept: number;
  /** Entries that are not a certificate this parser reads (counted, hashed, skipped). */
  unparsed: number;
  error: string | null;
}

export interface CtRun {
  startedAt: number;
  endedAt: number;
  trigger: 'schedule' | 'on-demand';
  logs: CtLogRun[];
  raised: number;
  cleared: number;
  open: number;
}

interface LogState {
  client: CtClient;
  frontier: MerkleFrontier;
  /** Root hash of the last verified tree head (base64). */
  root: string | null;
}

/**
 * Certificate Transparency watch (issue 16 §3). Follows each configured RFC 6962 log from its first entry:
 * get-sth (signature checked when the log's key is configured), then get-entries for the new range; every new
 * leaf is appended to a Merkle frontier whose root must equal the signed root before anything from the range is
 * believed (RFC 6962 §2.1; this also proves the new tree extends the previous one). Certificates for the names
 * of the current pin sets (subdomain rule included) are kept; findings are recomputed from them against the
 * current pins at every run, so pinning a key pre-approves it and clears its findings.
 *
 * Issue 13: each log's progress (verified size, root, frontier, certificates kept) is saved in the registry after
 * every range it believed, and read back before each run and each read (`refresh`): a new leader continues a log
 * where the last one stopped, and every replica answers certificates and mismatch classifications alike.
 */
export class CtWatch {
  private readonly logs: LogState[];
  private certs: LoggedCertificate[] = [];
  private schedule: RepeatingJob | null = null;
  private running: Promise<CtRun> | null = null;
  private last: CtRun | null = null;

  constructor(
    private readonly deps: {
      pinsets: PinSetRepo; coverage: CoverageRepo; views: PinSetViews; findings: FindingRegister; store: CtLogStateRepo; clock: Clock; logger: Logger;
    },
    logs: readonly CtLog[],
    private readonly options: { intervalMs: number; timeoutMs: number },
  ) {
    this.logs = logs.map((log) => ({ client: new CtClient(log, options.timeoutMs), frontier: MerkleFrontier.empty(), root: null }));
  }

  get configured(): boolean {
    return this.logs.length > 0;
  }

  start(): void {
    if (this.options.intervalMs <= 0 || this.logs.length === 0) return;
    this.schedule ??= new RepeatingJob(() => this.run('schedule'), this.options.intervalMs, (err) =>
      this.deps.logger.error('CT watch run failed', { error: String(err) }),
    );
    this.schedule.start();
  }

  stop(): void {
    this.schedule?.stop();
  }

  lastRun(): CtRun | null {
    return this.last;
  }

  /**
   * Takes the progress other processes saved (a previous leader, an on-demand run on another replica) for every log
   * where it is ahead of this process's. Called before each run; call it before certificates() / classify().
   */
  async refresh(): Promise<void> {
    const rows = await this.deps.store.list();
    for (const row of rows) {
      const state = this.logs.find((l) => l.client.log.url === row.log);
      if (state === undefined || row.treeSize <= state.frontier.size) continue;
      try {
        state.frontier = MerkleFrontier.fromJSON(JSON.parse(row.frontier) as Parameters<typeof MerkleFrontier.fromJSON>[0]);
        state.root = row.root;
        const kept = JSON.parse(row.certificates) as LoggedCertificate[];
        this.certs = [...this.certs.filter((c) => c.log !== row.log), ...kept];
      } catch (err) {
        this.deps.logger.error('CT watch: saved progress unreadable, following the log from where this process is', { log: row.log, error: String(err) });
      }
    }
  }

  certificates(host?: string): LoggedCertificate[] {
    if (host === undefined) return [...this.certs];
    const w = [{ host: host.toLowerCase(), includeSubdomains: false, fleets: [], pins: new Set<string>() }];
    return this.certs.filter((c) => coveredHosts(c, w).length > 0);
  }

  classify(host: string, servedPins: readonly string[]): { class: MismatchClass; certificates: LoggedCertificate[] } {
    return classifyMismatch(host, servedPins, this.certs);
  }

  run(trigger: CtRun['trigger'] = 'on-demand'): Promise<CtRun> {
    this.running ??= this.runOnce(trigger).finally(() => {
      this.running = null;
    });
    return this.running;
  }

  private async runOnce(trigger: CtRun['trigger']): Promise<CtRun> {
    const { findings, clock, logger } = this.deps;
    const startedAt = clock.now();
    await this.refresh();
    const watched = watchedHosts(await currentSets(this.deps));
    const logs: CtLogRun[] = [];
    const problems: Finding[] = [];
    for (const [i, state] of this.logs.entries()) {
      const url = state.client.log.url;
      try {
        logs.push(await this.follow(state, watched));
      } catch (err) {
        const error = err instanceof Error ? err.message : String(err);
        logger.warn('CT watch: log problem', { log: url, error });
        logs.push({ log: url, ok: false, treeSize: state.frontier.size, fetched: 0, kept: 0, unparsed: 0, error });
        problems.push({
          key: `ct-log:${i}:${url}`, source: 'ct', kind: 'ct-log-problem', severity: 'warning', fleet: null, host: new URL(url).host,
          summary: `CT log ${url} could not be followed: ${error}`, detail: { log: url, error },
        });
      }
    }
    // a log neither followed by this process nor saved by another: its certificates are not known here, so its
    // open findings are left as recorded rather than cleared
    const unread = new Set(this.logs.filter((s) => s.root === null).map((s) => s.client.log.url));
    const r = await findings.replace('ct', [...ctFindings(this.certs, watched), ...problems], (f) => f.kind === 'ct-unpinned' && unread.has(String(f.detail['log'])));
    const run: CtRun = { startedAt, endedAt: clock.now(), trigger, logs, ...r };
    this.last = run;
    await findings.recordRun('ct', run).catch((err: unknown) => logger.error('CT watch run not recorded', { error: String(err) }));
    return run;
  }

  /** One log: new STH, new entries, frontier check; commits the range only when the root matches. */
  private async follow(state: LogState, watched: ReturnType<typeof watchedHosts>): Promise<CtLogRun> {
    const { client } = state;
    const url = client.log.url;
    const sth = await client.getSth();
    if (client.log.key !== null && !verifySth(sth, client.log.key)) throw new Error(`the signed tree head (size ${sth.treeSize}) has a bad signature`);
    if (sth.treeSize < state.frontier.size) throw new Error(`the log shrank from ${state.frontier.size} to ${sth.treeSize} entries`);
    const frontier = state.frontier.clone();
    const kept: LoggedCertificate[] = [];
    let fetched = 0;
    let unparsed = 0;
    while (frontier.size < sth.treeSize) {
      const start = frontier.size;
      const entries = await client.getEntries(start, Math.min(sth.treeSize, start + BATCH) - 1);
      entries.forEach((e, i) => {
        frontier.append(leafHash(e.leafInput));
        let cert: LoggedCertificate;
        try {
          cert = parseEntry(url, start + i, e.leafInput, e.extraData);
        } catch {
          unparsed++; // still part of the tree (hashed above); one odd entry must not stall the watch
          return;
        }
        if (coveredHosts(cert, watched).length > 0) kept.push(cert);
      });
      fetched += entries.length;
    }
    const root = toBase64(frontier.root());
    if (root !== toBase64(sth.rootHash)) {
      throw new Error(`entries ${state.frontier.size}..${sth.treeSize - 1} do not hash to the signed root (got ${root}): not committing them`);
    }
    state.frontier = frontier;
    state.root = root;
    // one copy per log entry (a refresh may have loaded part of this range from another replica meanwhile)
    const seen = new Set(kept.map((c) => c.index));
    this.certs = [...this.certs.filter((c) => c.log !== url || !seen.has(c.index)), ...kept];
    const save = {
      log: url, treeSize: frontier.size, root, frontier: JSON.stringify(frontier.toJSON()),
      certificates: JSON.stringify(this.certs.filter((c) => c.log === url)), updatedAt: this.deps.clock.now(),
    };
    await this.deps.store.save(save).catch((err: unknown) => this.deps.logger.error('CT watch: progress not saved (a new leader re-reads this range)', { log: url, error: String(err) }));
    if (unparsed > 0) this.deps.logger.warn('CT watch: entries not parsed', { log: url, unparsed });
    return { log: url, ok: true, treeSize: sth.treeSize, fetched, kept: kept.length, unparsed, error: null };
  }
}
