import type { TopicKind } from '../../shared/index';

/**
 * The seam between the gateway and "the broker" that devices connect to (SPEC §6). The protocol layer and the
 * API see only these types; which broker carries the messages — the embedded aedes broker (../broker/) or an
 * external MQTT broker (../external-broker/) — is chosen once, in ../start-transport.ts, from the configuration.
 */

/**
 * Handles an authorised device message; resolves once it is durably recorded. A transport acknowledges a QoS 1
 * message (PUBACK) only after this promise resolves ([MQTT-4.3.2-2] "having accepted ownership"), so a crash makes
 * the device resend it, never lose it.
 */
export type DeviceMessageHandler = (deviceId: string, kind: TopicKind, payload: Uint8Array) => Promise<void>;

/** Told about each refused publish of an authenticated device (counted like a malformed message). */
export type PublishRefusedHandler = (deviceId: string, topic: string, code: 'E_TOPIC' | 'E_SIZE', detail: string) => void;

/**
 * Told when a device comes online or goes offline, as far as the transport can know (docs/scale.md "Presence").
 * A transport awaits it before it hands on the message that revealed the presence (an external broker learns
 * "online" from the hello), so the hello handler already sees the device as connected.
 */
export type PresenceHandler = (deviceId: string, online: boolean) => Promise<void> | void;

/** How the protocol layer reaches devices: publish to one device's own topic, and whether it is connected now. */
export interface DevicePublisher {
  isConnected(deviceId: string): boolean | Promise<boolean>;
  publish(deviceId: string, kind: TopicKind, payload: Uint8Array): Promise<void>;
}

/**
 * Device credentials as the broker checks them. Enrolment stores `hash(secret)` in the registry; the transport
 * makes the broker accept the device within seconds of `provisioned` and refuse it (closing a live connection)
 * within seconds of `revoked`.
 */
export interface DeviceCredentials {
  /** The stored form of a new device secret, in a format this transport's broker verifies itself. */
  hash(secret: string): Promise<string>;
  provisioned(deviceId: string): void;
  revoked(deviceId: string): Promise<void>;
}

/** What the gateway passes to a transport. */
export interface TransportHandlers {
  onMessage: DeviceMessageHandler;
  onPublishRefused: PublishRefusedHandler;
  onPresence: PresenceHandler;
  /** Each refused device CONNECT, where the broker reports it to the gateway (the embedded one does). */
  onConnectRefused?: ConnectRefusedHandler;
}

/** Addresses a transport serves, for the start-up banner and tests (listeners of the embedded broker, or the URL). */
export interface TransportEndpoints {
  /** Plain MQTT listener of the embedded broker, null when off or external. */
  mqtt: { host: string; port: number } | null;
  /** Device-facing MQTT/TLS endpoint: the embedded listener, or the external broker's host and port. */
  mqtts: { host: string; port: number };
  /** 'embedded' or the external broker URL (what the operator configured, for the banner only). */
  broker: string;
}

export interface DeviceTransport {
  readonly publisher: DevicePublisher;
  readonly credentials: DeviceCredentials;
  /** Starts carrying device traffic to the handlers given at creation; resolves with the endpoints. */
  start(): Promise<TransportEndpoints>;
  /**
   * Re-reads the device-facing TLS certificate and key (embedded broker only; an external broker reloads its own):
   * returns false when this transport has no TLS material of its own.
   */
  reloadTls(tls: { cert: Buffer; key: Buffer }): boolean;
  /** Stops accepting device traffic; in-flight messages either commit and are acknowledged, or are redelivered later. */
  close(): Promise<void>;
}

/**
 * Told about each refused device CONNECT: the CONNACK return code when the refusal is an authentication answer
 * (MQTT 3.1.1 §3.2.2.3), and the reason text (e.g. "device is decommissioned"). For the refused-connects metric.
 */
export type ConnectRefusedHandler = (refusal: { returnCode: number | null; message: string }) => void;
