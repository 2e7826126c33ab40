import { MqttClient, type IClientOptions, type IPublishPacket } from 'mqtt';
import type { TrustDecision } from './pin-policy';
import { pinnedTlsStream } from './pinned-tls-stream';

/**
 * One device's MQTT connection to the broker over pinned TLS (mqtts), with firmware-style reconnects:
 * exponential back-off with jitter, reset after a good connection. mqtt.js's own reconnect is off so that
 * every attempt goes through the pin decision again.
 *
 * MQTT 3.1.1 details this relies on:
 * - CONNECT carries username = deviceId, password = credential (SPEC §6; [MQTT-3.1.3-11]).
 * - clean session = false: the broker keeps the subscriptions and queues QoS 1 updates while the device is
 *   away ([MQTT-3.1.2-4], [MQTT-3.1.2-5]) — the gateway still re-delivers on hello (SPEC §7), this is belt
 *   and braces.
 * - PUBACK for an update is sent only after `onMessage` resolves, i.e. after the set was persisted or
 *   rejected ([MQTT-4.3.2-2] lets the receiver ack after taking ownership). A crash before that means no
 *   PUBACK, so the broker re-delivers with DUP set ([MQTT-4.4.0-1]) and the device sees the same bytes again.
 */
export interface BrokerEndpoint {
  /** The name the device's pin set knows the broker by (e.g. mqtt.example.com). */
  readonly hostname: string;
  /** Where that name is reached (host → address mapping, e.g. 127.0.0.1). */
  readonly address: string;
  readonly port: number;
  /** CA certificate(s) for ordinary validation (fail-open, unpinned broker). */
  readonly ca?: string | Buffer;
}

export interface LinkOptions {
  readonly clientId: string;
  readonly username: string;
  readonly password: string;
  readonly broker: BrokerEndpoint;
  readonly keepaliveSec?: number;
  readonly reconnectMinMs?: number;
  readonly reconnectMaxMs?: number;
  readonly connectTimeoutMs?: number;
  readonly random?: () => number;
  readonly decide: (served: Uint8Array[], caValid: boolean) => TrustDecision;
  readonly onDecision: (d: TrustDecision, served: Uint8Array[]) => void;
  readonly onOnline: (client: MqttClient) => void;
  readonly onOffline: (error?: Error) => void;
  /** Resolve to PUBACK; throw `LinkAbort` (e.g. a simulated crash) to leave the message un-acked. */
  readonly onMessage: (topic: string, payload: Uint8Array) => Promise<void>;
  /**
   * The optional presence extension of SPEC §6 (docs/scale.md "Presence"): a will on `pins/v1/{id}/status` with the
   * payload "offline", and the same message published before a clean disconnect (an MQTT 3.1.1 DISCONNECT
   * discards the will, [MQTT-3.14.4-3]). Brokers without connect events (Mosquitto) learn "offline" from it.
   * Default true; devices without it keep working (online again at their next hello).
   */
  readonly presence?: boolean;
}

/** Thrown from onMessage when the device is gone: the PUBACK is never sent. */
export class LinkAbort extends Error {}

export class DeviceLink {
  private client: MqttClient | undefined;
  private timer: NodeJS.Timeout | undefined;
  private attempt = 0;
  private stopped = true;
  online = false;

  constructor(private readonly o: LinkOptions) {}

  /** Connect now or after `delayMs`. */
  start(delayMs = 0): void {
    this.stopped = false;
    this.schedule(delayMs);
  }

  /** Closes the connection; `graceful` sends DISCONNECT, otherwise the socket is just dropped (power loss). */
  stop(graceful = true): void {
    this.stopped = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.drop(graceful);
  }

  /** Drops the connection and reconnects after `delayMs` (flapping, offline periods). */
  bounce(delayMs: number): void {
    if (this.stopped) return;
    this.drop(false);
    this.schedule(delayMs);
  }

  get mqtt(): MqttClient | undefined {
    return this.online ? this.client : undefined;
  }

  /** The presence extension's topic (not in shared/: it is no part of the SPEC topics, docs/scale.md). */
  private statusTopic(): string {
    return `pins/v1/${this.o.username}/status`;
  }

  private schedule(delayMs: number): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.connect();
    }, delayMs);
  }

  private backoffMs(): number {
    const min = this.o.reconnectMinMs ?? 1_000;
    const max = this.o.reconnectMaxMs ?? 60_000;
    const base = Math.min(max, min * 2 ** Math.min(this.attempt, 16));
    return Math.round(base / 2 + (this.o.random ?? Math.random)() * (base / 2)); // "equal jitter"
  }

  private drop(graceful: boolean): void {
    const c = this.client;
    this.client = undefined;
    const wasOnline = this.online;
    this.online = false;
    if (c !== undefined) {
      c.removeAllListeners();
      c.on('error', () => {});
      if (graceful && wasOnline && this.o.presence !== false) c.publish(this.statusTopic(), 'offline', { qos: 1 });
      c.end(!graceful); // a graceful end waits for that PUBACK
    }
    if (wasOnline) this.o.onOffline();
  }

  private connect(): void {
    if (this.stopped) return;
    const { broker } = this.o;
    const options: IClientOptions = {
      clientId: this.o.clientId,
      username: this.o.username,
      password: this.o.password,
      protocolVersion: 4,
      clean: false,
      keepalive: this.o.keepaliveSec ?? 60,
      reconnectPeriod: 0,
      connectTimeout: this.o.connectTimeoutMs ?? 30_000,
      resubscribe: false,
      ...(this.o.presence !== false ? { will: { topic: this.statusTopic(), payload: Buffer.from('offline'), qos: 1 as const, retain: false } } : {}),
    };
    const client = new MqttClient(
      () => pinnedTlsStream({
        address: broker.address,
        port: broker.port,
        servername: broker.hostname,
        ...(broker.ca !== undefined ? { ca: broker.ca } : {}),
        decide: this.o.decide,
        onDecision: this.o.onDecision,
      }),
      options,
    );
    this.client = client;
    client.handleMessage = (packet: IPublishPacket, done: (e?: Error) => void): void => {
      const payload = typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload;
      this.o.onMessage(packet.topic, new Uint8Array(payload)).then(
        () => done(),
        (e: unknown) => {
          if (!(e instanceof LinkAbort)) done(); // any other failure was already answered with an ack
        },
      );
    };
    let failure: Error | undefined;
    client.on('connect', () => {
      this.attempt = 0;
      this.online = true;
      this.o.onOnline(client);
    });
    client.on('error', (e) => {
      failure = e;
    });
    client.on('close', () => {
      if (this.client !== client) return;
      this.client = undefined;
      const wasOnline = this.online;
      this.online = false;
      client.removeAllListeners();
      client.on('error', () => {});
      client.end(true);
      if (wasOnline || failure !== undefined) this.o.onOffline(failure);
      if (this.stopped) return;
      this.attempt++;
      this.schedule(this.backoffMs());
    });
  }
}
