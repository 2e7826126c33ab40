import { monitorEventLoopDelay } from 'node:perf_hooks';

/**
 * What the million-device bench samples while the rollout runs, once per `everyMs`: the rotation-readiness answer's
 * latency through the real API (an operator watching the rotation gate), the process RSS, the event loop's delay,
 * and the committed-ack count (for acks/s per interval).
 */
export interface Sample {
  /** ms since the rollout was started */
  t: number;
  readinessMs: number;
  verified: number;
  rssMiB: number;
  acks: number;
}

export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return 0;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] as number;
}

export class Sampler {
  readonly samples: Sample[] = [];
  peakRss = process.memoryUsage().rss;
  private readonly loop = monitorEventLoopDelay({ resolution: 10 });
  private timer: NodeJS.Timeout | null = null;
  private busy = false;

  constructor(
    private readonly t0: number,
    private readonly readiness: () => Promise<{ verified: number }>,
    private readonly acks: () => number,
    private readonly onSample: (s: Sample) => void = () => {},
  ) {}

  start(everyMs: number): void {
    this.loop.enable();
    this.timer = setInterval(() => void this.take(), everyMs);
  }

  /** One sample now (skipped while the previous readiness call still runs: one operator, one request at a time). */
  async take(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      const rss = process.memoryUsage().rss;
      this.peakRss = Math.max(this.peakRss, rss);
      const t = performance.now();
      const r = await this.readiness();
      const s = { t: Math.round(t - this.t0), readinessMs: +(performance.now() - t).toFixed(2), verified: r.verified, rssMiB: Math.round(rss / 2 ** 20), acks: this.acks() };
      this.samples.push(s);
      this.onSample(s);
    } finally {
      this.busy = false;
    }
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.loop.disable();
  }

  summary(): Record<string, unknown> {
    const lat = this.samples.map((s) => s.readinessMs);
    let peakAcksPerSec = 0;
    for (let i = 1; i < this.samples.length; i++) {
      const a = this.samples[i] as Sample;
      const b = this.samples[i - 1] as Sample;
      if (a.t > b.t) peakAcksPerSec = Math.max(peakAcksPerSec, ((a.acks - b.acks) * 1000) / (a.t - b.t));
    }
    return {
      readinessSamples: lat.length,
      readinessMs: { p50: percentile(lat, 50), p99: percentile(lat, 99), max: percentile(lat, 100) },
      eventLoopDelayMs: { p50: +(this.loop.percentile(50) / 1e6).toFixed(1), p99: +(this.loop.percentile(99) / 1e6).toFixed(1), max: +(this.loop.max / 1e6).toFixed(1) },
      peakRssMiB: Math.round(this.peakRss / 2 ** 20),
      peakAcksCommittedPerSec: Math.round(peakAcksPerSec),
    };
  }
}
