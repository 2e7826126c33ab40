/**
 * The live event stream behind GET /api/events (server-sent events): small JSON payloads, each with a `type`
 * (rollout, executions, coverage, device, rotation). Bursty sources (execution counts, coverage) are coalesced
 * per key: at most one event per key every `coalesceMs`, carrying the newest payload.
 */
export interface BrowserEvent {
  type: string;
  [field: string]: unknown;
}

export class BrowserEventStream {
  private readonly subscribers = new Set<(e: BrowserEvent) => void>();
  private readonly closers = new Set<() => void>();
  private readonly pending = new Map<string, () => BrowserEvent | null>();
  private timer: NodeJS.Timeout | null = null;
  private closed = false;
  /** Replicas: every local event also goes to the others (replica-fanout.ts); null = one process. */
  private relay: ((e: BrowserEvent) => void) | null = null;

  constructor(private readonly coalesceMs = 250) {}

  get subscriberCount(): number {
    return this.subscribers.size;
  }

  /** Subscribes; `onClose` runs when the hub closes (gateway stop). Returns the unsubscribe function. */
  subscribe(listener: (e: BrowserEvent) => void, onClose: () => void = () => {}): () => void {
    this.subscribers.add(listener);
    this.closers.add(onClose);
    return () => {
      this.subscribers.delete(listener);
      this.closers.delete(onClose);
    };
  }

  relayTo(relay: ((e: BrowserEvent) => void) | null): void {
    this.relay = relay;
  }

  publish(event: BrowserEvent): void {
    if (this.closed) return;
    this.relay?.(event);
    this.deliver(event);
  }

  /** An event another replica published: to this replica's subscribers only (never relayed again). */
  publishRemote(event: BrowserEvent): void {
    if (!this.closed) this.deliver(event);
  }

  private deliver(event: BrowserEvent): void {
    for (const s of this.subscribers) {
      try {
        s(event);
      } catch {
        // a broken stream unsubscribes itself on abort
      }
    }
  }

  /**
   * Publishes the event `make()` builds, soon: a burst with the same key becomes one event, built when it is
   * sent (so expensive payloads such as counts are computed once per burst). `make` may return null (nothing).
   */
  coalesce(key: string, make: () => BrowserEvent | null): void {
    // with replicas, built even without local subscribers: those of the other replicas get it
    if (this.closed || (this.subscribers.size === 0 && this.relay === null)) return;
    this.pending.set(key, make);
    this.timer ??= setTimeout(() => {
      this.timer = null;
      const makers = [...this.pending.values()];
      this.pending.clear();
      for (const m of makers) {
        const e = m();
        if (e !== null) this.publish(e);
      }
    }, this.coalesceMs);
  }

  close(): void {
    this.closed = true;
    if (this.timer !== null) clearTimeout(this.timer);
    for (const c of [...this.closers]) c();
    this.subscribers.clear();
    this.closers.clear();
  }
}
