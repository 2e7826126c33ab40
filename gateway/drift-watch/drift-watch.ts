import { formatPin } from '../../shared/index';
import type { Clock } from '../clock';
import type { FindingRegister } from '../findings/finding-register';
import type { Logger } from '../logger';
import type { FetchServerPins } from '../pinsets/live-check';
import type { CoverageRepo, DeviceRepo, PinSetRepo } from '../registry/repositories';
import type { PinSetViews } from '../registry/pinset-views';
import { rotationReadiness } from '../rotation-gate/rotation-readiness';
import { currentSets } from './current-sets';
import { driftFinding, hostsToProbe, LISTED_DEVICES, pinsOf, type PinReadiness, type Probe } from './drift-rules';
import { RepeatingJob } from '../repeating-job';

export interface DriftRun {
  startedAt: number;
  endedAt: number;
  trigger: 'schedule' | 'on-demand';
  probes: { host: string; port: number; ok: boolean; servedPin: string | null; error: string | null }[];
  raised: number;
  cleared: number;
  open: number;
}

export interface DriftWatchOptions {
  /** Between two scheduled runs; 0 turns the schedule off (on-demand runs only). Default 5 minutes. */
  intervalMs: number;
  /** TLS handshake timeout per host. */
  timeoutMs: number;
  /** Rotation target, percent (SPEC §8 default 95). */
  target: number;
}

/**
 * Pin drift watch (issue 16 §2): connects to every host of every current pin set, reads the key it serves and
 * raises findings (drift-rules.ts) into the register; a finding clears at the first run that no longer sees it.
 */
export class DriftWatch {
  private schedule: RepeatingJob | null = null;
  private running: Promise<DriftRun> | null = null;
  private last: DriftRun | null = null;
  private readonly listeners: ((run: DriftRun) => void)[] = [];

  constructor(
    private readonly deps: {
      devices: DeviceRepo; pinsets: PinSetRepo; coverage: CoverageRepo; views: PinSetViews; fetchPins: FetchServerPins;
      findings: FindingRegister; clock: Clock; logger: Logger;
    },
    private readonly options: DriftWatchOptions,
  ) {}

  start(): void {
    if (this.options.intervalMs <= 0) return;
    this.schedule ??= new RepeatingJob(() => this.run('schedule'), this.options.intervalMs, (err) =>
      this.deps.logger.error('drift watch run failed', { error: String(err) }),
    );
    this.schedule.start();
  }

  stop(): void {
    this.schedule?.stop();
  }

  /** Called after every run (guided rotation detects a switch: the next key served). */
  onRun(listener: (run: DriftRun) => void): void {
    this.listeners.push(listener);
  }

  lastRun(): DriftRun | null {
    return this.last;
  }

  /** One run now; a run already in progress is joined, not doubled. */
  run(trigger: DriftRun['trigger'] = 'on-demand'): Promise<DriftRun> {
    this.running ??= this.runOnce(trigger).finally(() => {
      this.running = null;
    });
    return this.running;
  }

  private async runOnce(trigger: DriftRun['trigger']): Promise<DriftRun> {
    const { devices, pinsets, coverage, views, fetchPins, findings, clock, logger } = this.deps;
    const startedAt = clock.now();
    const fleets = await currentSets({ pinsets, coverage, views });
    const targets = hostsToProbe(fleets);
    const probes = await Promise.all(
      targets.map(async (hp): Promise<[typeof hp, Probe]> => {
        try {
          const s = await fetchPins(hp.host, hp.port, { timeoutMs: this.options.timeoutMs });
          return [hp, { ok: true, leaf: formatPin(s.leaf), chain: s.chain.map(formatPin) }];
        } catch (err) {
          return [hp, { ok: false, error: err instanceof Error ? err.message : String(err) }];
        }
      }),
    );
    const now = clock.now();
    const out = [];
    for (const [hp, probe] of probes) {
      if (!probe.ok) continue; // unreachable: no verdict on its key (the run lists the error)
      for (const fleet of fleets) {
        const { pins, enforced } = pinsOf(fleet, hp.host);
        if (!enforced) continue; // a fleet that only reports on the host cannot fail on it
        // the gate's answer for every served key the fleet pins (the rule picks the best-covered one)
        const answers = new Map<string, PinReadiness>();
        for (const pin of new Set([probe.leaf, ...probe.chain])) {
          answers.set(pin, await rotationReadiness({ devices, coverage, views }, { fleet: fleet.fleet, host: hp.host, pin, target: this.options.target, limit: LISTED_DEVICES, now }));
        }
        const f = driftFinding({ fleet: fleet.fleet, hp, served: probe, pinned: pins, target: this.options.target }, (pin) => answers.get(pin) as PinReadiness);
        if (f !== null) out.push(f);
      }
    }
    const r = await findings.replace('drift', out);
    const run: DriftRun = {
      startedAt,
      endedAt: clock.now(),
      trigger,
      probes: probes.map(([hp, p]) => ({ ...hp, ok: p.ok, servedPin: p.ok ? p.leaf : null, error: p.ok ? null : p.error })),
      ...r,
    };
    this.last = run;
    // every replica's API answers this run (GET /api/findings lastRuns, GET /api/drift-watch)
    await findings.recordRun('drift', run).catch((err: unknown) => logger.error('drift watch run not recorded', { error: String(err) }));
    for (const l of this.listeners) {
      try {
        l(run);
      } catch (err) {
        logger.error('drift watch listener failed', { error: String(err) });
      }
    }
    if (r.raised + r.cleared > 0) logger.warn('drift watch: findings changed', { raised: r.raised, cleared: r.cleared, open: r.open });
    return run;
  }
}
