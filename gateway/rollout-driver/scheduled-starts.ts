import type { Clock } from '../clock';
import type { Logger } from '../logger';
import type { AuditRepo, RolloutRepo } from '../registry/repositories';
import { startDue } from '../rollout-engine/schedule';

/**
 * Starts DRAFT rollouts whose schedule.startAt has come, at the first moment a maintenance window is open
 * (rollout-engine/schedule.ts decides, from the injected clock). The start is the operator command `start`,
 * audited with the actor "scheduler". A start the engine refuses (e.g. a newer seq rolls out already) is
 * audited once and not retried: the rollout stays DRAFT for an operator to look at.
 */
export class ScheduledStarts {
  private readonly refused = new Set<string>();
  private running = false;

  constructor(
    private readonly deps: { rollouts: RolloutRepo; audit: AuditRepo; clock: Clock; logger: Logger },
    private readonly start: (rolloutId: string) => Promise<void>,
  ) {}

  async run(): Promise<void> {
    if (this.running) return; // a slow start must not overlap the next timer tick
    this.running = true;
    try {
      const now = this.deps.clock.now();
      for (const row of await this.deps.rollouts.list({ state: 'DRAFT' })) {
        if (this.refused.has(row.id) || !startDue(row.snapshot.config.schedule, now)) continue;
        try {
          await this.start(row.id);
          this.deps.logger.info('scheduled rollout started', { id: row.id, fleet: row.fleet, startAt: row.snapshot.config.schedule?.startAt });
        } catch (err) {
          this.refused.add(row.id);
          const error = err instanceof Error ? err.message : String(err);
          this.deps.logger.warn('scheduled rollout start refused', { id: row.id, error });
          await this.deps.audit.append('scheduler', 'rollout.start-refused', row.id, { error });
        }
      }
    } finally {
      this.running = false;
    }
  }
}
