import type { Clock } from '../clock';
import type { Logger } from '../logger';
import type { Fence, LeaderLock } from '../registry/leader-lock';
import { initialLeaderState, nextPollAt, transition, type LeaderInput, type LeaderState, type LeaderTiming } from './leader-state';

/** What start.ts needs from leader election (the rest of the gateway sees `isLeader` and `fence` only). */
export interface Leadership {
  readonly state: LeaderState;
  isLeader(): boolean;
  /** The fence of this term's leader-only writes, or null when this replica does not lead. */
  fence(): Fence | null;
  /** Subscribes to 'lead' (jobs start) and 'step-down' (jobs stop at once). */
  onChange(listener: (effect: 'lead' | 'step-down', state: LeaderState) => void): void;
  /** A fenced write was refused (E_NOT_LEADER): step down now, without waiting for the next poll. */
  fenced(reason: string): void;
}

/**
 * Runs leader-state.ts against the registry's LeaderLock: one attempt at start (a SQLite file used by another live
 * process fails start-up here), then a poll every pollMs; a lock session that errors or closes steps down at once.
 */
export class LeaderElector implements Leadership {
  private current: LeaderState;
  private timer: NodeJS.Timeout | null = null;
  private readonly listeners: ((effect: 'lead' | 'step-down', state: LeaderState) => void)[] = [];
  private polling: Promise<void> | null = null;

  constructor(
    private readonly lock: LeaderLock,
    private readonly role: string,
    private readonly timing: LeaderTiming,
    /** Times the lock's rules (polls, stall bound): real elapsed time, as the database measures its timeouts. */
    private readonly clock: Clock,
    private readonly logger: Logger,
    /** The time stored with an acquisition (the gateway's injected clock). */
    private readonly wallClock: Clock = clock,
  ) {
    this.current = initialLeaderState(clock.now());
    lock.onLost((reason) => this.apply({ type: 'lost', reason, at: this.clock.now() }));
  }

  get state(): LeaderState {
    return this.current;
  }

  isLeader(): boolean {
    return this.current.kind === 'leader';
  }

  fence(): Fence | null {
    return this.current.kind === 'leader' ? { role: this.role, epoch: this.current.epoch } : null;
  }

  onChange(listener: (effect: 'lead' | 'step-down', state: LeaderState) => void): void {
    this.listeners.push(listener);
  }

  fenced(reason: string): void {
    this.apply({ type: 'lost', reason, at: this.clock.now() });
  }

  /** The first attempt (awaited: its error, e.g. SQLite's refusal, stops start-up), then the polls. */
  async start(): Promise<void> {
    const got = await this.lock.tryAcquire(this.wallClock.now());
    this.apply(got === null ? { type: 'busy', at: this.clock.now() } : { type: 'acquired', epoch: got.epoch, at: this.clock.now() });
    this.schedule();
  }

  /** One poll now (the timer calls it; tests may too). */
  poll(): Promise<void> {
    this.polling ??= this.pollOnce().finally(() => (this.polling = null));
    return this.polling;
  }

  async stop(): Promise<void> {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    await this.polling;
    this.apply({ type: 'stop' });
    await this.lock.release();
  }

  private async pollOnce(): Promise<void> {
    const s = this.current;
    if (s.kind === 'stopped') return;
    // before any query: a leader that was frozen past stallMs may already have been replaced
    this.apply({ type: 'tick', at: this.clock.now() });
    try {
      if (this.current.kind === 'leader') {
        const held = await this.lock.stillHeld();
        this.apply(held ? { type: 'confirmed', at: this.clock.now() } : { type: 'lost', reason: 'the lock is no longer held', at: this.clock.now() });
      } else if (this.current.kind === 'follower') {
        const got = await this.lock.tryAcquire(this.wallClock.now());
        this.apply(got === null ? { type: 'busy', at: this.clock.now() } : { type: 'acquired', epoch: got.epoch, at: this.clock.now() });
      }
    } catch (err) {
      this.apply({ type: 'failed', error: err instanceof Error ? err.message : String(err), at: this.clock.now() });
    }
  }

  private apply(input: LeaderInput): void {
    const before = this.current;
    const t = transition(before, input, this.timing);
    this.current = t.state;
    if (t.effect === null) {
      if (t.state.kind === 'follower' && before.kind === 'follower' && t.state.lastError !== null && t.state.lastError !== before.lastError) {
        this.logger.warn('leader election attempt failed', { error: t.state.lastError });
      }
      return;
    }
    if (t.effect === 'lead' && t.state.kind === 'leader') this.logger.info('this replica leads (rollouts, watches)', { epoch: t.state.epoch });
    else this.logger.warn('this replica stepped down', { reason: t.reason ?? 'unknown', ...(before.kind === 'leader' ? { epoch: before.epoch } : {}) });
    for (const l of this.listeners) {
      try {
        l(t.effect, t.state);
      } catch (err) {
        this.logger.error('leadership listener failed', { error: String(err) });
      }
    }
  }

  private schedule(): void {
    const at = nextPollAt(this.current, this.clock.now(), this.timing);
    if (at === null) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.poll().finally(() => this.schedule());
    }, Math.max(0, at - this.clock.now()));
    this.timer.unref();
  }
}
