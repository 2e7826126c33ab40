/**
 * Admission control for credential checks (issue 17): at most `maxConcurrent` scrypt checks run at once (scrypt
 * runs on libuv's thread pool, 4 threads by default), at most `maxQueued` wait; a CONNECT beyond that is answered
 * at once with CONNACK 3 "server unavailable" ([MQTT-3.2.2.3]) instead of piling up. A queued check whose client
 * has gone (timed out and closed its socket) is dropped when its turn comes, without spending the scrypt: under a
 * reconnect storm the gateway works only for clients that are still waiting.
 */
export interface GateOptions {
  maxConcurrent: number;
  maxQueued: number;
}

export const DEFAULT_GATE: GateOptions = { maxConcurrent: 4, maxQueued: 5000 };

interface Waiting {
  gone: () => boolean;
  run: () => Promise<void>;
  dropped: () => void;
}

export class AuthGate {
  private running = 0;
  private readonly queue: Waiting[] = [];
  /** Checks dropped because their client had gone; refused because the queue was full. */
  droppedGone = 0;
  refusedBusy = 0;
  /** Credential checks actually run. */
  checked = 0;

  constructor(private readonly options: GateOptions = DEFAULT_GATE) {}

  get inFlight(): number {
    return this.running;
  }

  get queued(): number {
    return this.queue.length;
  }

  /** false when refused (queue full); `dropped` is called instead of `run` when the client has gone meanwhile. */
  submit(gone: () => boolean, run: () => Promise<void>, dropped: () => void): boolean {
    if (this.running >= this.options.maxConcurrent && this.queue.length >= this.options.maxQueued) {
      this.refusedBusy += 1;
      return false;
    }
    this.queue.push({ gone, run, dropped });
    this.pump();
    return true;
  }

  private pump(): void {
    while (this.running < this.options.maxConcurrent && this.queue.length > 0) {
      const next = this.queue.shift()!;
      if (next.gone()) {
        this.droppedGone += 1;
        next.dropped();
        continue;
      }
      this.running += 1;
      this.checked += 1;
      next
        .run()
        .catch(() => {})
        .finally(() => {
          this.running -= 1;
          this.pump();
        });
    }
  }
}
