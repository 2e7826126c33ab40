import type { TopicKind } from '../../shared/index';
import type { DeviceTransport, TransportHandlers } from '../../gateway/transport/device-transport';
import { deviceIdOf, indexOf, type DeviceAnswer } from './device-model';
import type { DeviceSide } from './device-side';

/**
 * The gateway's DeviceTransport seam (gateway/transport/device-transport.ts) with no broker and no sockets: what
 * the gateway publishes to a device's update topic goes straight to that device (device-side.ts), and what a
 * device publishes goes through the very handlers the MQTT transports call (`onPresence`, `onMessage`), with
 * the same QoS 1 rule: a device sends its next message only after the gateway resolved (committed) the last one
 * [MQTT-4.3.2-2]. A broker's bounded inbound queue is modelled by `maxInFlight` device messages handled at once.
 */
export interface SocketlessCounts {
  hellos: number;
  acks: { applied: number; verified: number; rejected: number };
  /** Messages whose handler threw (a broker would withhold the PUBACK and the device resend): must stay 0. */
  failures: number;
  firstFailure: string | null;
  /** Envelopes the gateway published, by topic kind. */
  published: Partial<Record<TopicKind, number>>;
}

export class SocketlessTransport implements DeviceTransport {
  private readonly online: Uint8Array;
  private readonly queue: (() => Promise<void>)[] = [];
  private queueHead = 0;
  private active = 0;
  private closed = false;
  private pumpScheduled = false;
  readonly counts: SocketlessCounts = { hellos: 0, acks: { applied: 0, verified: 0, rejected: 0 }, failures: 0, firstFailure: null, published: {} };
  /** The last envelope published on an update topic (the bare baseline sends the gateway's own, bare-fanout.ts). */
  lastUpdate: Uint8Array | null = null;
  /** Told after each ack's commit (the moment a broker would send its PUBACK). */
  onAckCommitted: (status: 'applied' | 'verified' | 'rejected', deviceId: string) => void = () => {};

  private devices: DeviceSide | null = null;

  constructor(
    private readonly handlers: TransportHandlers,
    n: number,
    private readonly maxInFlight: number,
  ) {
    this.online = new Uint8Array(n);
  }

  /** The devices behind the transport (made once the gateway's keyset, which they hold from the factory, is known). */
  attach(devices: DeviceSide): void {
    this.devices = devices;
    devices.onAnswers((answers) => this.answered(answers));
  }

  readonly publisher = {
    isConnected: (deviceId: string): boolean => {
      const i = indexOf(deviceId);
      return i >= 0 && this.online[i] === 1;
    },
    publish: async (deviceId: string, kind: TopicKind, payload: Uint8Array): Promise<void> => {
      this.counts.published[kind] = (this.counts.published[kind] ?? 0) + 1;
      const i = indexOf(deviceId);
      // only the update topic carries work for these devices (they hold the current keyset from the factory)
      if (kind === 'update') this.lastUpdate = payload;
      if (kind === 'update' && i >= 0 && this.online[i] === 1) this.devices?.deliver(i, payload);
    },
  };

  readonly credentials = {
    hash: async (secret: string): Promise<string> => `bench:${secret.length}`,
    provisioned: (): void => {},
    revoked: async (deviceId: string): Promise<void> => {
      const i = indexOf(deviceId);
      if (i >= 0) this.online[i] = 0;
    },
  };

  async start() {
    return { mqtt: null, mqtts: { host: 'socketless', port: 0 }, broker: 'socketless (bench)' };
  }

  reloadTls(): boolean {
    return false;
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.idle();
  }

  /** Devices come online: presence, then their hello (SPEC §6), each device after the one before is accepted. */
  connect(indexes: Iterable<number>, hello: Uint8Array): void {
    for (const i of indexes) {
      this.push(async () => {
        const id = deviceIdOf(i);
        this.online[i] = 1;
        await this.handlers.onPresence(id, true);
        await this.handlers.onMessage(id, 'hello', hello);
        this.counts.hellos += 1;
      });
    }
  }

  /** Resolves when no device message waits or is being handled. */
  async idle(): Promise<void> {
    while (this.active > 0 || this.queueHead < this.queue.length) await new Promise((ok) => setTimeout(ok, 10));
  }

  private answered(answers: DeviceAnswer[]): void {
    for (const a of answers) {
      const id = deviceIdOf(a.index);
      this.push(async () => {
        for (const { status, payload } of a.acks) {
          await nextTurn(); // a device's next message arrives with a later socket read, never in the same turn
          await this.handlers.onMessage(id, 'ack', payload); // the PUBACK: committed
          this.counts.acks[status] += 1;
          this.onAckCommitted(status, id);
        }
      });
    }
  }

  private push(job: () => Promise<void>): void {
    if (this.closed) return;
    this.queue.push(job);
    this.pump();
  }

  /**
   * Starts waiting device messages, up to `maxInFlight` at once, from a macrotask of its own: a broker reads each
   * message in a socket callback, so other work (timers, API requests) gets turns between them. Started from a
   * finishing job directly, the messages would chain as microtasks and hold the event loop until all were done.
   */
  private pump(): void {
    if (this.pumpScheduled) return;
    this.pumpScheduled = true;
    setImmediate(() => {
      this.pumpScheduled = false;
      this.startWaiting();
    });
  }

  private startWaiting(): void {
    while (this.active < this.maxInFlight && this.queueHead < this.queue.length) {
      const job = this.queue[this.queueHead] as () => Promise<void>;
      this.queue[this.queueHead] = noop;
      this.queueHead += 1;
      if (this.queueHead > 65_536 && this.queueHead * 2 > this.queue.length) {
        this.queue.splice(0, this.queueHead);
        this.queueHead = 0;
      }
      this.active += 1;
      job()
        .catch((err: unknown) => {
          this.counts.failures += 1;
          this.counts.firstFailure ??= err instanceof Error ? (err.stack ?? err.message) : String(err);
        })
        .finally(() => {
          this.active -= 1;
          this.pump();
        });
    }
  }
}

const noop = async (): Promise<void> => {};
const nextTurn = (): Promise<void> => new Promise((ok) => setImmediate(ok));

