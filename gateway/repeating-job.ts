/**
 * Runs `job` every `intervalMs`, counted from the end of the previous run, so two runs never overlap (a slow probe
 * of many hosts just spaces the runs out). A failed run is reported and the schedule goes on. Used by the drift and
 * CT watches; the timer is unref'd so it never keeps the process alive.
 */
export class RepeatingJob {
  private timer: NodeJS.Timeout | null = null;
  private stopped = true;

  constructor(
    private readonly job: () => Promise<unknown>,
    private readonly intervalMs: number,
    private readonly onError: (err: unknown) => void,
  ) {}

  start(): void {
    if (this.intervalMs <= 0 || !this.stopped) return;
    this.stopped = false;
    this.schedule();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }

  private schedule(): void {
    this.timer = setTimeout(() => {
      void this.job()
        .catch((err: unknown) => this.onError(err))
        .finally(() => {
          if (!this.stopped) this.schedule();
        });
    }, this.intervalMs);
    this.timer.unref();
  }
}
