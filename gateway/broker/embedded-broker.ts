import type { DeviceRepo } from '../registry/repositories';
import { Aedes, type Client } from 'aedes';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { createSecureContext, type TLSSocket } from 'node:tls';
import { MAX_MESSAGE_BYTES, topicFor, type TopicKind } from '../../shared/index';
import { DEFAULT_CREDENTIAL_POLICY, hashCredential, type CredentialPolicy } from '../auth/device-credentials';
import type { Logger } from '../logger';
import type { DeviceCredentials, DevicePublisher, DeviceTransport, TransportHandlers } from '../transport/device-transport';
import {
  deviceAuthenticate, deviceAuthorizePublish, deviceAuthorizeSubscribe, 
} from './device-acl';
import { CredentialUpgrade } from './credential-upgrade';
import { guardFrameSize } from './frame-guard';
import type { DeviceAdmission } from './device-admission';
import { capSubscribeQos } from './subscribe-qos-cap';
import { createAdmittedTlsServer, DEFAULT_TLS_ADMISSION, type AdmittedTlsServer } from './tls-admission';

/** Room for the topic, packet id and CONNECT fields around a MAX_MESSAGE_BYTES payload. */
const MAX_REMAINING_LENGTH = MAX_MESSAGE_BYTES + 1024;
/** How long an update waits for a device that has connected but not yet subscribed to its update topic. */
const SUBSCRIBE_WAIT_MS = 3000;
/**
 * Silent connections are closed (issue 17): a TLS handshake not finished in 10 s (node's default is 120 s), and
 * a connection that sends no CONNECT within 10 s of opening (aedes' default is 30 s; [MQTT-3.1.0-1] lets the
 * server close a connection that does not open with CONNECT "within a reasonable amount of time").
 */
const TLS_HANDSHAKE_TIMEOUT_MS = 10_000;
const CONNECT_TIMEOUT_MS = 10_000;

export interface BrokerDeps {
  devices: DeviceRepo;
  logger: Logger;
  /**
   * How new device credentials are hashed (PINGW_CREDENTIAL_HASH; default the fast `$7$` PBKDF2 form): unknown ids
   * are checked against a dummy in the same form, and older scrypt hashes are re-hashed after a log-in.
   */
  credentialPolicy?: CredentialPolicy;
  /** Told once per stored hash re-hashed into the policy's form (audit, counters). */
  onCredentialRehashed?: (deviceId: string, fromForm: string) => void;
  handlers: TransportHandlers;
  /** Login throttle, bounded credential checks, takeover detection (./device-admission.ts). */
  admission?: DeviceAdmission;
}

export interface ListenSpec {
  host: string;
  port: number;
}

export interface EmbeddedBroker {
  readonly publisher: DevicePublisher;
  /** Closes a device's connection (revocation): its next CONNECT is checked against the registry again. */
  disconnect(deviceId: string): void;
  listenTcp(spec: ListenSpec): Promise<AddressInfo>;
  listenTls(spec: ListenSpec, tls: { cert: Buffer; key: Buffer }): Promise<AddressInfo>;
  /**
   * Replaces the certificate and key the TLS listener serves (tls.Server.setSecureContext): new connections get
   * the new key, established ones keep theirs. Throws (and keeps the old pair) when the pair is unusable.
   */
  setTlsContext(tls: { cert: Buffer; key: Buffer }): void;
  /** Stops accepting connections, closes every client and the broker. */
  close(): Promise<void>;
}

/**
 * The embedded aedes broker. Only devices connect over the network; the gateway publishes with
 * `aedes.publish`, which is not a network client and bypasses the device ACL.
 */
export async function createEmbeddedBroker(deps: BrokerDeps): Promise<EmbeddedBroker> {
  const { devices, logger, handlers } = deps;
  const policy = deps.credentialPolicy ?? DEFAULT_CREDENTIAL_POLICY;
  const upgrade = new CredentialUpgrade({
    devices, logger, policy, ...(deps.onCredentialRehashed === undefined ? {} : { onUpgraded: deps.onCredentialRehashed }),
  });
  const authenticate = deviceAuthenticate(devices, logger, policy, upgrade);
  const aedes = await Aedes.createBroker({
    authenticate: deps.admission ? deps.admission.wrap(authenticate, (id) => connectedClient(id)) : authenticate,
    connectTimeout: CONNECT_TIMEOUT_MS,
    authorizePublish: deviceAuthorizePublish(handlers.onMessage, handlers.onPublishRefused, logger),
    authorizeSubscribe: deviceAuthorizeSubscribe(logger),
    // defence in depth: a client only ever receives messages on its own topics
    authorizeForward: (client, packet) => (packet.topic.startsWith(`pins/v1/${client.id}/`) ? packet : null),
    maxClientsIdLength: 128,
    concurrency: 1000,
    queueLimit: 64,
  });

  const presence = (deviceId: string, online: boolean) => {
    Promise.resolve(handlers.onPresence(deviceId, online)).catch((err: unknown) =>
      logger.error('presence not recorded', { deviceId, online, error: String(err) }),
    );
  };
  aedes.on('clientReady', (client: Client) => presence(client.id, true));
  // the CONNACK ends a TLS connection's admission slot (./tls-admission.ts): the next waiting device may start
  aedes.on('connackSent', (_packet, client: Client) => {
    const conn = (client as unknown as { conn?: unknown }).conn;
    for (const t of tlsServers) t.settle(conn);
  });
  aedes.on('clientDisconnect', (client: Client) => {
    if (aedes.closed) return; // shutdown: start-up marks everyone offline anyway
    presence(client.id, false);
  });
  // aedes reports a refused CONNECT with its CONNACK code as err.errorCode (clientError once the id is known)
  const refusal = (err: Error) => {
    const code = (err as Error & { errorCode?: unknown }).errorCode;
    return { returnCode: typeof code === 'number' ? code : null, message: err.message };
  };
  aedes.on('clientError', (client: Client, err: Error) => {
    logger.info('device connection closed on error', { deviceId: client.id, error: err.message });
    const r = refusal(err);
    if (r.returnCode !== null) handlers.onConnectRefused?.(r);
  });
  aedes.on('connectionError', (_client: Client, err: Error) => {
    logger.info('connection refused', { error: err.message });
    handlers.onConnectRefused?.(refusal(err));
  });

  const servers: Server[] = [];
  const tlsServers: AdmittedTlsServer[] = [];
  const tlsOptions = (tls: { cert: Buffer; key: Buffer }) => ({ cert: tls.cert, key: tls.key, minVersion: 'TLSv1.2' as const });
  const sockets = new Set<Socket>();
  const accept = (socket: Socket | TLSSocket) => {
    // a guesser's address in back-off costs no MQTT parsing at all (issue 17)
    if (deps.admission?.refuseConnection(socket.remoteAddress)) {
      socket.destroy();
      return;
    }
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    socket.on('error', () => {}); // reported through aedes' clientError
    capSubscribeQos(aedes.handle(socket)); // SPEC §6 ACL: QoS 1 at most, in the SUBACK too
    guardFrameSize(socket, MAX_REMAINING_LENGTH, (announced) =>
      logger.warn('connection closed: oversized MQTT packet', { remote: socket.remoteAddress ?? null, announced }),
    );
  };
  const listen = (server: Server, spec: ListenSpec) =>
    new Promise<AddressInfo>((resolve, reject) => {
      server.once('error', reject);
      server.listen(spec.port, spec.host, () => {
        server.off('error', reject);
        servers.push(server);
        resolve(server.address() as AddressInfo);
      });
    });

  const connectedClient = (deviceId: string) => {
    const client = (aedes as unknown as { clients: Record<string, Client | undefined> }).clients[deviceId];
    return client?.connected ? client : undefined;
  };
  const isSubscribed = (client: Client, topic: string) =>
    (client as unknown as { subscriptions: Record<string, unknown> }).subscriptions[topic] !== undefined;
  const waitSubscribed = (deviceId: string, topic: string) =>
    new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        aedes.off('subscribe', onSubscribe);
        aedes.off('clientDisconnect', onGone);
        resolve();
      };
      const onSubscribe = (subs: { topic: string }[], client: Client) => {
        if (client.id === deviceId && subs.some((s) => s.topic === topic)) done();
      };
      const onGone = (client: Client) => client.id === deviceId && done();
      const timer = setTimeout(done, SUBSCRIBE_WAIT_MS);
      aedes.on('subscribe', onSubscribe);
      aedes.on('clientDisconnect', onGone);
    });

  const publisher: DevicePublisher = {
    isConnected: (deviceId) => connectedClient(deviceId) !== undefined,
    async publish(deviceId: string, kind: TopicKind, payload: Uint8Array) {
      const topic = topicFor(deviceId, kind);
      const client = connectedClient(deviceId);
      // a device subscribes before it says hello; one that pipelines both gets a moment to finish subscribing
      if (client && !isSubscribed(client, topic)) await waitSubscribed(deviceId, topic);
      await new Promise<void>((resolve, reject) =>
        aedes.publish(
          { cmd: 'publish', topic, payload: Buffer.from(payload), qos: 1, retain: false, dup: false },
          (err) => (err ? reject(err) : resolve()),
        ),
      );
    },
  };

  return {
    publisher,
    disconnect: (deviceId) => connectedClient(deviceId)?.close(),
    listenTcp: (spec) => listen(createServer(accept), spec),
    listenTls: (spec, tls) => {
      // at most 32 connections between handshake and CONNACK, the rest wait unread; each handshake has its own
      // 10 s timeout (./tls-admission.ts, issues 14 and 17); a throttled address is refused before its handshake
      const admitted = createAdmittedTlsServer(createSecureContext(tlsOptions(tls)), accept, (address) => deps.admission?.refuseConnection(address) ?? false, {
        ...DEFAULT_TLS_ADMISSION,
        handshakeTimeoutMs: TLS_HANDSHAKE_TIMEOUT_MS,
      });
      const server = admitted.server;
      tlsServers.push(admitted);
      deps.admission?.attachTls(() => admitted.stats);
      return listen(server, spec);
    },
    setTlsContext(tls) {
      const context = createSecureContext(tlsOptions(tls)); // throws on a bad pair (e.g. key values mismatch) before anything changes
      for (const server of tlsServers) server.setSecureContext(context);
    },
    async close() {
      // stop accepting first; server.close() settles once the last connection is gone
      const closed = servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve())));
      await new Promise<void>((resolve) => aedes.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      for (const t of tlsServers) t.destroyPending();
      await Promise.all(closed);
    },
  };
}

export interface EmbeddedTransportOptions {
  /** Plain MQTT listener (local tests and simulators), null = off. */
  mqtt: ListenSpec | null;
  mqtts: ListenSpec;
  tls: { cert: Buffer; key: Buffer };
}

/**
 * The embedded broker as the gateway's device transport (the default): devices connect to this process, which
 * checks each CONNECT against the registry, so provisioning needs nothing and revocation closes the connection.
 */
export async function createEmbeddedTransport(deps: BrokerDeps, options: EmbeddedTransportOptions): Promise<DeviceTransport> {
  const broker = await createEmbeddedBroker(deps);
  const credentials: DeviceCredentials = {
    hash: (secret) => hashCredential(secret, deps.credentialPolicy ?? DEFAULT_CREDENTIAL_POLICY),
    provisioned: () => {}, // the registry is the broker's credential store: a new row is accepted at once
    revoked: async (deviceId) => broker.disconnect(deviceId), // the reconnect is refused (decommissioned)
  };
  return {
    publisher: broker.publisher,
    credentials,
    async start() {
      const mqtt = options.mqtt === null ? null : await broker.listenTcp(options.mqtt);
      const mqtts = await broker.listenTls(options.mqtts, options.tls);
      return {
        mqtt: mqtt === null || options.mqtt === null ? null : { host: options.mqtt.host, port: mqtt.port },
        mqtts: { host: options.mqtts.host, port: mqtts.port },
        broker: 'embedded',
      };
    },
    reloadTls(tls) {
      broker.setTlsContext(tls);
      return true;
    },
    close: () => broker.close(),
  };
}
