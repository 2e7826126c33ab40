import type { TopicKind } from '../../shared/index';

/**
 * The seam between the gateway and "the broker" that devices connect to (SPEC §6). The protocol layer sees only
 * these types; which broker carries the messages (today the embedded aedes broker in ../broker/) is chosen by the
 * composition root (../start.ts).
 */

/**
 * Handles an authorised device message; resolves once it is durably recorded. A transport acknowledges a QoS 1
 * message (PUBACK) only after this promise resolves ([MQTT-4.3.2-2] "having accepted ownership"), so a crash makes
 * the device resend it, never lose it.
 */
export type DeviceMessageHandler = (deviceId: string, kind: TopicKind, payload: Uint8Array) => Promise<void>;

/** Told about each refused publish of an authenticated device (counted like a malformed message). */
export type PublishRefusedHandler = (deviceId: string, topic: string, code: 'E_TOPIC' | 'E_SIZE', detail: string) => void;

/** How the protocol layer reaches devices: publish to one device's own topic, and whether it is connected now. */
export interface DevicePublisher {
  isConnected(deviceId: string): boolean;
  publish(deviceId: string, kind: TopicKind, payload: Uint8Array): Promise<void>;
}

/**
 * Told about each refused device CONNECT: the CONNACK return code when the refusal is an authentication answer
 * (MQTT 3.1.1 §3.2.2.3), and the reason text (e.g. "device is decommissioned"). For the refused-connects metric.
 */
export type ConnectRefusedHandler = (refusal: { returnCode: number | null; message: string }) => void;

/** Ends one device's live session now (decommission); false when it had none. */
export type DisconnectDevice = (deviceId: string) => boolean;
