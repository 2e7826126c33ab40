import { afterEach, describe, expect, it, vi } from 'vitest';
import { RepeatingJob } from '../../gateway/repeating-job';

describe('RepeatingJob (drift and CT watch schedules), on fake time', () => {
  afterEach(() => vi.useRealTimers());

  it('runs every interval counted from the end of the previous run, never two at once, and goes on after a failure', async () => {
    vi.useFakeTimers();
    const errors: unknown[] = [];
    let running = 0;
    let maxRunning = 0;
    let runs = 0;
    const job = new RepeatingJob(
      async () => {
        runs++;
        running++;
        maxRunning = Math.max(maxRunning, running);
        await new Promise((r) => setTimeout(r, 300)); // a slow run: longer than the interval
        running--;
        if (runs === 1) throw new Error('probe failed');
      },
      100,
      (err) => errors.push(err),
    );
    job.start();
    job.start(); // a second start does not add a second schedule
    await vi.advanceTimersByTimeAsync(99);
    expect(runs).toBe(0);
    await vi.advanceTimersByTimeAsync(1); // t=100: first run
    expect(runs).toBe(1);
    await vi.advanceTimersByTimeAsync(300); // t=400: first run ends (fails), next in 100
    expect(errors).toHaveLength(1);
    expect(runs).toBe(1);
    await vi.advanceTimersByTimeAsync(100); // t=500: second run
    expect(runs).toBe(2);
    expect(maxRunning).toBe(1);
    job.stop();
    await vi.advanceTimersByTimeAsync(2_000);
    expect(runs).toBe(2);
  });

  it('an interval of 0 never runs', async () => {
    vi.useFakeTimers();
    let runs = 0;
    const job = new RepeatingJob(async () => void runs++, 0, () => {});
    job.start();
    await vi.advanceTimersByTimeAsync(10_000);
    expect(runs).toBe(0);
  });
});
