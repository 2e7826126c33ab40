import type { DeviceRepo } from '../registry/repositories';
import type { AuthenticateError, AuthorizePublishHandler, AuthorizeSubscribeHandler, Client } from 'aedes';
import { DEVICE_PUBLISHES, DEVICE_SUBSCRIBES, MAX_MESSAGE_BYTES, isValidDeviceId, parseTopic, type TopicKind } from '../../shared/index';
import { dummyCredentialHash, verifyDeviceCredential, type CredentialPolicy } from '../auth/device-credentials';
import type { CredentialUpgrade } from './credential-upgrade';
import type { DeviceMessageHandler, PublishRefusedHandler } from '../transport/device-transport';
import type { Logger } from '../logger';

/** CONNACK return codes of MQTT 3.1.1 §3.2.2.3 (aedes' AuthErrorCode is a const enum we cannot import). */
const IDENTIFIER_REJECTED = 2;
const BAD_USERNAME_OR_PASSWORD = 4;
const NOT_AUTHORIZED = 5;

function authError(message: string, returnCode: number): AuthenticateError {
  return Object.assign(new Error(message), { returnCode }) as AuthenticateError;
}

type AuthenticateHandler = (
  client: Client,
  username: Readonly<string | undefined>,
  password: Readonly<Buffer | undefined>,
  done: (error: AuthenticateError | null, success: boolean | null) => void,
) => void;

/**
 * Every network client is a device: username = device id, password = its credential (SPEC §6). The client id
 * must equal the device id, so a device has one session and a reconnect takes the old one over ([MQTT-3.1.4-2]).
 */
export function deviceAuthenticate(devices: DeviceRepo, logger: Logger, policy: CredentialPolicy, upgrade?: CredentialUpgrade): AuthenticateHandler {
  return (client, username, password, done) => {
    if (username === undefined || password === undefined || password.length === 0) {
      // [MQTT-3.1.2-19]/[MQTT-3.1.2-21]: anonymous clients are refused
      return done(authError('anonymous clients are not accepted', NOT_AUTHORIZED), false);
    }
    if (!isValidDeviceId(username) || client.id !== username) {
      return done(authError('client id must equal the device id given as user name', IDENTIFIER_REJECTED), false);
    }
    devices
      .get(username)
      // unknown devices cost what known ones cost: a dummy hash in the policy's form and cost (no enumeration by timing)
      .then(async (device) => ({
        device,
        valid: await verifyDeviceCredential(password.toString('utf8'), device?.credentialHash ?? (await dummyCredentialHash(policy))),
      }))
      .then(
        ({ device, valid }) => {
          if (!device || !valid) {
            // counted, throttled and logged (once per device per window) by ./device-admission.ts
            logger.info('device authentication failed', { deviceId: username, reason: device ? 'wrong credential' : 'unknown device' });
            return done(authError('bad user name or password', BAD_USERNAME_OR_PASSWORD), false);
          }
          if (device.decommissioned) return done(authError('device is decommissioned', NOT_AUTHORIZED), false);
          done(null, true);
          // an older scrypt hash becomes the policy's fast form now that the secret is at hand (written once)
          upgrade?.afterLogin(device.id, password.toString('utf8'), device.credentialHash);
        },
        (err: unknown) => {
          // the credential check or the registry failed: CONNACK 3 "server unavailable", the device retries
          logger.error('credential check failed', { deviceId: username, error: String(err) });
          done(authError('server unavailable', 3), false);
        },
      );
  };
}

/**
 * A device may publish only on its own hello/ack/report topics (SPEC §6), at most MAX_MESSAGE_BYTES.
 * Refusing closes the connection without a PUBACK ([MQTT-3.3.5-2]).
 *
 * The message is handled here, before aedes writes the PUBACK: a QoS 1 message is acknowledged only once it is
 * committed ([MQTT-4.3.2-2] "having accepted ownership"), so a crash makes the device resend it, never lose it.
 */
export function deviceAuthorizePublish(onMessage: DeviceMessageHandler, onRefused: PublishRefusedHandler, logger: Logger): AuthorizePublishHandler {
  return (client, packet, callback) => {
    if (client === null) return callback(new Error('publishing without a client (stale will message) is not allowed'));
    if (packet.topic === `pins/v1/${client.id}/status`) {
      // the optional presence extension (docs/scale.md): this broker knows presence from the connection itself,
      // so a device's will / offline notice is accepted and not forwarded to anyone
      packet.retain = false;
      return callback(null);
    }
    const topic = parseTopic(packet.topic);
    if (topic === null || topic.deviceId !== client.id || !DEVICE_PUBLISHES.includes(topic.kind)) {
      onRefused(client.id, packet.topic, 'E_TOPIC', `publishing on ${packet.topic} is not allowed`);
      return callback(new Error(`publishing on ${packet.topic} is not allowed`));
    }
    const payload = packet.payload;
    if (payload.length > MAX_MESSAGE_BYTES) {
      onRefused(client.id, packet.topic, 'E_SIZE', `payload too large: ${payload.length} bytes > ${MAX_MESSAGE_BYTES}`);
      return callback(new Error(`payload of ${payload.length} bytes exceeds ${MAX_MESSAGE_BYTES}`));
    }
    packet.retain = false; // device messages are events, never retained state
    const bytes = typeof payload === 'string' ? new TextEncoder().encode(payload) : new Uint8Array(payload.buffer, payload.byteOffset, payload.length);
    onMessage(topic.deviceId, topic.kind, bytes).then(
      () => callback(null),
      (err: unknown) => {
        logger.error('device message not recorded', { deviceId: client.id, topic: packet.topic, error: String(err) });
        callback(err instanceof Error ? err : new Error(String(err)));
      },
    );
  };
}

/**
 * A device may subscribe only to its own update/keyset topics (SPEC §6); wildcards, $SYS and other devices'
 * topics get the failure return code 0x80 in SUBACK ([MQTT-3.9.3-2]) instead of a subscription. QoS is capped at 1.
 */
export function deviceAuthorizeSubscribe(logger: Logger): AuthorizeSubscribeHandler {
  return (client, sub, callback) => {
    const topic = parseTopic(sub.topic);
    if (topic === null || topic.deviceId !== client.id || !DEVICE_SUBSCRIBES.includes(topic.kind)) {
      logger.warn('subscription refused', { clientId: client.id, topic: sub.topic });
      return callback(null, null);
    }
    callback(null, { ...sub, qos: sub.qos > 1 ? 1 : sub.qos });
  };
}
