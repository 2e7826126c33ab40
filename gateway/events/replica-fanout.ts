import { MAX_CHANNEL_PAYLOAD, type ReplicaChannel } from '../registry/replica-channel';
import type { Logger } from '../logger';
import type { BrowserEvent, BrowserEventStream } from './browser-event-stream';
import type { EventBus, EventBusMap } from './event-bus';

/**
 * The device events the leader's rollout driver needs from every replica (they happen where the device's message
 * was ingested). Counted events (metrics) and webhooks are not here: each replica counts and sends its own.
 */
const RELAYED: ReadonlySet<keyof EventBusMap> = new Set<keyof EventBusMap>([
  'hello', 'ack', 'ackRepeated', 'report', 'online', 'offline', 'enrolled', 'decommissioned', 'recommissioned',
]);

type Item = { h: BrowserEvent } | { b: [keyof EventBusMap, unknown] };

/** JSON with byte arrays (pin set hashes in acks and hellos) as hex, and back. */
export function encodeReplicaJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => {
    if (v instanceof Uint8Array) return { $u8: Buffer.from(v).toString('hex') };
    if (typeof v === 'object' && v !== null && (v as { type?: unknown }).type === 'Buffer' && Array.isArray((v as { data?: unknown }).data)) {
      return { $u8: Buffer.from((v as { data: number[] }).data).toString('hex') };
    }
    return v;
  });
}

export function decodeReplicaJson(text: string): unknown {
  return JSON.parse(text, (_k, v: unknown) =>
    typeof v === 'object' && v !== null && typeof (v as { $u8?: unknown }).$u8 === 'string' ? new Uint8Array(Buffer.from((v as { $u8: string }).$u8, 'hex')) : v,
  );
}

/**
 * Event fan-out between replicas (docs/scale.md "Replicas") over the registry's ReplicaChannel (PostgreSQL
 * LISTEN/NOTIFY): every browser event (SSE) published here goes to the other replicas' subscribers, and the device
 * events of RELAYED reach the other replicas' fleet-wide listeners (the leader's rollout driver). Items are batched
 * for `flushMs` and packed into notifications under the 8000-byte limit; an item that alone is too large is not
 * relayed (counted and logged: SSE payloads and device events are small by design, ids and counts).
 */
export class ReplicaFanout {
  private pending: string[] = [];
  private timer: NodeJS.Timeout | null = null;
  private flushing: Promise<void> = Promise.resolve();
  /** Items not relayed because one alone exceeded the notification limit. */
  oversize = 0;
  /** Browser events received from other replicas (after they were published here). */
  private remoteHub: ((e: BrowserEvent) => void) | null = null;

  constructor(
    private readonly channel: ReplicaChannel,
    private readonly bus: EventBus,
    private readonly hub: BrowserEventStream,
    private readonly origin: string,
    private readonly logger: Logger,
    private readonly flushMs = 20,
  ) {}

  start(onRemoteHub?: (e: BrowserEvent) => void): void {
    this.remoteHub = onRemoteHub ?? null;
    this.channel.subscribe((p) => this.receive(p));
    this.bus.relayTo((event, payload) => {
      if (RELAYED.has(event)) this.queue({ b: [event, payload] });
    });
    this.hub.relayTo((e) => this.queue({ h: e }));
  }

  /** Stops relaying and sends what is queued. */
  async stop(): Promise<void> {
    this.bus.relayTo(null);
    this.hub.relayTo(null);
    this.flush();
    await this.flushing;
  }

  private queue(item: Item): void {
    const text = encodeReplicaJson(item);
    if (Buffer.byteLength(text) > MAX_CHANNEL_PAYLOAD - 200) {
      this.oversize += 1;
      this.logger.warn('event too large for the replica channel, not relayed', { kind: 'h' in item ? item.h.type : item.b[0], bytes: Buffer.byteLength(text) });
      return;
    }
    this.pending.push(text);
    this.timer ??= setTimeout(() => this.flush(), this.flushMs);
  }

  private flush(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    const items = this.pending;
    this.pending = [];
    if (items.length === 0) return;
    const head = `{"k":"ev","o":${JSON.stringify(this.origin)},"i":[`;
    const messages: string[] = [];
    let body: string[] = [];
    let size = head.length + 2;
    for (const it of items) {
      const n = Buffer.byteLength(it) + 1;
      if (body.length > 0 && size + n > MAX_CHANNEL_PAYLOAD) {
        messages.push(`${head}${body.join(',')}]}`);
        body = [];
        size = head.length + 2;
      }
      body.push(it);
      size += n;
    }
    messages.push(`${head}${body.join(',')}]}`);
    // in order, one after the other: listeners see events in the order they were raised here
    this.flushing = this.flushing.then(async () => {
      for (const m of messages) {
        await this.channel.publish(m).catch((err: unknown) => this.logger.warn('replica event not sent', { error: String(err) }));
      }
    });
  }

  private receive(payload: string): void {
    let msg: { k?: unknown; o?: unknown; i?: unknown };
    try {
      msg = decodeReplicaJson(payload) as typeof msg;
    } catch {
      this.logger.warn('unreadable replica event ignored', { bytes: payload.length });
      return;
    }
    if (msg.k !== 'ev' || msg.o === this.origin || !Array.isArray(msg.i)) return;
    for (const item of msg.i as Item[]) {
      if ('h' in item) {
        this.hub.publishRemote(item.h);
        this.remoteHub?.(item.h);
      } else if ('b' in item && RELAYED.has(item.b[0])) {
        this.bus.emitRemote(item.b[0], item.b[1] as never);
      }
    }
  }
}
