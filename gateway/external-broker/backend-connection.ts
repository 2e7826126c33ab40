import mqtt, { type IClientOptions, type IPublishPacket, type MqttClient, type Packet } from 'mqtt';
import type { Logger } from '../logger';

export interface BackendConnectionOptions {
  url: URL;
  ca: Buffer | null;
  username: string;
  password: string;
  /** A fixed id from the pool: the broker keeps its session (and the messages it holds) for whoever reclaims it. */
  clientId: string;
  receiveMaximum: number;
  /** Shared-subscription filters (`$share/group/…`), subscribed at QoS 1. */
  subscriptions: string[];
  /** Resolves once the message is committed; only then is it acknowledged. A rejection leaves it unacknowledged. */
  onMessage: (topic: string, payload: Buffer) => Promise<void>;
  logger: Logger;
  /**
   * Asked before every connect and reconnect: false while this process does not hold the client id's lease
   * (./pool-lease.ts), so a connection is never (re)opened with an id another replica may hold.
   */
  mayConnect?: () => boolean;
  /** The broker closed the connection because another client connected with the same id ([MQTT-3.1.4-3], reason 0x8E). */
  onTakenOver?: () => void;
}

/** A day: a crashed gateway's session (subscriptions + held messages) waits that long to be reclaimed. */
const SESSION_EXPIRY_S = 86_400;

type SendPacket = (packet: Packet, cb?: (err?: Error) => void, cbStorePut?: () => void, noStore?: boolean) => void;

/**
 * One MQTT 5 backend connection of the gateway to an external broker (docs/scale.md "Backend connections").
 *
 * PUBACK only after commit, pipelined. mqtt.js handles one incoming PUBLISH at a time while its PUBACK waits
 * (docs/library-notes.md: 177 msg/s per connection at a 5 ms commit). Here `handleMessage` starts the commit and returns
 * at once, and the PUBACK mqtt.js then sends is held back (`_sendPacket`, mqtt 5.16) until that commit resolved:
 * up to `receiveMaximum` messages commit together in one ingest batch, and PUBACKs still leave in the order the
 * PUBLISHes arrived ([MQTT-4.6.0-2]). A failed commit sends no PUBACK and drops the connection: the broker resends
 * every unacknowledged message of the session when it reconnects ([MQTT-4.4.0-1]), and the handlers are idempotent.
 * PUBACKs held for a connection that has since closed are never sent on the next one.
 */
export class BackendConnection {
  readonly client: MqttClient;
  private generation = 0;
  private tail: Promise<void> = Promise.resolve();
  private readonly held = new Map<number, { committed: Promise<void>; generation: number }>();
  private subscribed = false;
  private lastError: string | null = null;
  /** Messages received, PUBACKs sent, PUBACKs dropped (connection gone or commit failed). */
  readonly stats = { received: 0, acked: 0, dropped: 0 };

  constructor(private readonly o: BackendConnectionOptions) {
    const options: IClientOptions = {
      protocolVersion: 5,
      clientId: o.clientId,
      username: o.username,
      password: o.password,
      clean: false, // [MQTT-3.1.2-4]: resume the session, so unacknowledged messages come back after a reconnect
      properties: { sessionExpiryInterval: SESSION_EXPIRY_S, receiveMaximum: o.receiveMaximum },
      reconnectPeriod: 1000,
      connectTimeout: 10_000,
      keepalive: 30,
      resubscribe: true,
      rejectUnauthorized: true,
      ...(o.ca !== null ? { ca: o.ca } : {}),
      manualConnect: true,
    };
    this.client = mqtt.connect(o.url.href, options);
    this.client.on('error', (err) => {
      // a broker that is down makes this fire at every reconnect: log each distinct error once
      if (err.message !== this.lastError) o.logger.warn('backend connection error', { clientId: o.clientId, error: err.message });
      this.lastError = err.message;
    });
    this.client.on('connect', () => (this.lastError = null));
    // mqtt.js reconnects on a timer; a (re)connect happens only while the lease allows it
    const gate = o.mayConnect;
    if (gate !== undefined) {
      const connect = this.client.connect.bind(this.client);
      this.client.connect = () => (gate() ? connect() : this.client);
    }
    this.client.on('disconnect', (packet) => {
      if (packet.reasonCode === 0x8e) {
        o.logger.warn('backend session taken over by another connection with the same client id', { clientId: o.clientId });
        o.onTakenOver?.();
      }
    });
    this.client.on('close', () => {
      this.generation++; // PUBACKs held for the closed connection are dropped: the broker resends those messages
    });
    this.client.handleMessage = (packet: IPublishPacket, callback: (err?: Error) => void) => {
      const payload = typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload;
      this.stats.received++;
      const committed = o.onMessage(packet.topic, payload);
      if (packet.qos === 1 && packet.messageId !== undefined) {
        this.held.set(packet.messageId, { committed, generation: this.generation });
      } else {
        committed.catch(() => {});
      }
      callback(); // mqtt.js now reads the next PUBLISH; its PUBACK goes through the hold below
    };
    const client = this.client as unknown as { _sendPacket: SendPacket };
    const send = client._sendPacket.bind(this.client);
    client._sendPacket = (packet, cb, cbStorePut, noStore) => {
      const hold = packet.cmd === 'puback' && packet.messageId !== undefined ? this.held.get(packet.messageId) : undefined;
      if (hold === undefined || packet.cmd !== 'puback') return send(packet, cb, cbStorePut, noStore);
      this.held.delete(packet.messageId!);
      cb?.();
      this.tail = this.tail
        .then(() => hold.committed)
        .then(
          () => {
            if (hold.generation === this.generation && this.client.connected) {
              send(packet);
              this.stats.acked++;
            } else {
              this.stats.dropped++;
            }
          },
          (err: unknown) => {
            this.stats.dropped++;
            if (hold.generation !== this.generation) return;
            o.logger.error('device message not committed: no PUBACK, reconnecting for redelivery', { clientId: o.clientId, error: String(err) });
            this.generation++;
            (this.client as unknown as { stream?: { destroy(): void } }).stream?.destroy();
          },
        );
    };
  }

  /** Connects and subscribes; rejects when the broker refuses the subscriptions (ACL) or does not answer in time. */
  async start(timeoutMs: number): Promise<void> {
    const connected = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`external broker ${this.o.url.href} (PINGW_BROKER_URL): no CONNACK for ${this.o.clientId} within ${timeoutMs} ms${this.lastError === null ? '' : ` (${this.lastError})`}`)),
        timeoutMs,
      );
      timer.unref(); // an aborted connection's wait never holds the process open
      this.client.once('connect', () => {
        clearTimeout(timer);
        resolve();
      });
    });
    this.client.connect();
    await connected;
    if (!this.subscribed) {
      const granted = await this.client.subscribeAsync(this.o.subscriptions, { qos: 1 });
      const refused = granted.filter((g) => g.qos >= 0x80);
      if (refused.length > 0) throw new Error(`backend ${this.o.clientId}: broker refused ${refused.map((g) => g.topic).join(', ')} (check its ACL)`);
      this.subscribed = true;
    }
  }

  get connected(): boolean {
    return this.client.connected;
  }

  async publish(topic: string, payload: Uint8Array): Promise<void> {
    await this.client.publishAsync(topic, Buffer.from(payload), { qos: 1, retain: false });
  }

  /**
   * Waits for the PUBACKs of committed messages, then disconnects keeping the session: messages not yet
   * acknowledged stay with the broker for whoever reclaims this client id.
   */
  async close(): Promise<void> {
    await this.tail;
    await this.client.endAsync(false, { properties: { sessionExpiryInterval: SESSION_EXPIRY_S } });
  }

  /**
   * Drops the connection at once (the lease is lost): held PUBACKs are never sent, and the broker keeps every
   * unacknowledged message in the session for the next holder of the id. Commits already under way may still
   * land; the handlers are idempotent, so the redelivery to the next holder is recorded once.
   */
  abort(): void {
    this.generation++;
    this.client.end(true);
  }
}
