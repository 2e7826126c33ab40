import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { dirname, join } from 'node:path';
import { MAX_MESSAGE_BYTES, parseTopic, topicFor } from '../../shared/index';
import { hashDeviceCredentialPbkdf2 } from '../auth/device-credentials';
import type { Logger } from '../logger';
import type { DeviceCredentials, DevicePublisher, DeviceTransport, TransportHandlers } from '../transport/device-transport';
import type { Clock } from '../clock';
import type { BackendLeaseRepo } from '../registry/backend-lease-repo';
import { BackendConnection } from './backend-connection';
import { LeasedPool } from './leased-pool';
import { defaultTimings } from './pool-lease';
import { MosquittoPasswordFile, type CredentialRow } from './password-file';

/** Optional SPEC §6 extension (docs/scale.md "Presence"): a device's will / clean-disconnect notice. */
export const STATUS_KIND = 'status';
const STATUS_TOPIC = /^pins\/v1\/([A-Za-z0-9._-]{1,128})\/status$/;

export interface ExternalBrokerOptions {
  /** mqtts://host:port */
  url: string;
  caFile: string | null;
  username: string;
  secretFile: string | null;
  passwordFile: string | null;
  pidFile: string | null;
  reloadMs: number;
  clients: number;
  /** Client ids of the whole pool, shared by every replica (`{prefix}-0…poolSize−1`). */
  poolSize: number;
  /** Lease on a client id (docs/scale.md): a dead replica's ids are taken over at most this long after its last renewal. */
  leaseMs: number;
  shareGroup: string;
  clientIdPrefix: string;
  receiveMaximum: number;
  connectTimeoutMs: number;
  dataDir: string;
}

export interface ExternalTransportDeps {
  handlers: TransportHandlers;
  logger: Logger;
  /** Presence as the registry has it (every replica sees the same answer). */
  isOnline: (deviceId: string) => Promise<boolean>;
  /** Every active device with its stored credential hash (for the broker's password file). */
  listCredentials: () => AsyncIterable<CredentialRow>;
  /** Leases on the pool's client ids, shared by the replicas through the registry. */
  leases: BackendLeaseRepo;
  clock: Clock;
}

/** The gateway's broker secret: 256 random bits in a 0600 file, created on first use (shared by the replicas). */
function backendSecret(file: string): string {
  if (!existsSync(file)) {
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    writeFileSync(file, `${randomBytes(32).toString('base64url')}\n`, { mode: 0o600, flag: 'wx' });
  }
  return readFileSync(file, 'utf8').trim();
}

/**
 * Devices on an external MQTT broker (Mosquitto 2 tested; docs/scale.md): the gateway is an MQTT 5 backend client
 * with a fixed pool of connections, each in the shared subscriptions `$share/{group}/pins/v1/+/{hello,ack,report,status}`,
 * so replicas split device traffic. The broker checks device credentials and the SPEC §6 ACL itself (password file +
 * `pattern` ACLs on %u), so refused publishes never reach the gateway (the contract suite states the difference).
 */
export function createExternalTransport(deps: ExternalTransportDeps, o: ExternalBrokerOptions): DeviceTransport {
  const { handlers, logger } = deps;
  const url = new URL(o.url);
  const secret = backendSecret(o.secretFile ?? join(o.dataDir, 'broker', 'gateway.secret'));
  const ca = o.caFile === null ? null : readFileSync(o.caFile);
  let backendLine: string | null = null; // `user:$7$…` of the gateway itself, hashed once per start

  const passwordFile =
    o.passwordFile === null || o.pidFile === null
      ? null
      : new MosquittoPasswordFile(
          { file: o.passwordFile, pidFile: o.pidFile, minIntervalMs: o.reloadMs },
          { list: deps.listCredentials, backendLines: () => (backendLine === null ? [] : [backendLine]), logger },
        );

  const onMessage = async (topic: string, payload: Buffer): Promise<void> => {
    const status = STATUS_TOPIC.exec(topic);
    if (status !== null) {
      const deviceId = status[1]!;
      const text = payload.toString('utf8');
      if (text === 'offline' || text === 'online') await handlers.onPresence(deviceId, text === 'online');
      else logger.warn('unknown status payload', { deviceId, bytes: payload.length });
      return;
    }
    const parsed = parseTopic(topic);
    if (parsed === null) return; // not a device topic: our subscriptions do not match any
    if (payload.length > MAX_MESSAGE_BYTES) {
      // the broker's message_size_limit drops these first; counted here too in case a broker lets one through
      handlers.onPublishRefused(parsed.deviceId, topic, 'E_SIZE', `payload too large: ${payload.length} bytes > ${MAX_MESSAGE_BYTES}`);
      return;
    }
    // every connect starts with a hello (SPEC §6): the device is online before the hello handler delivers to it
    if (parsed.kind === 'hello') await handlers.onPresence(parsed.deviceId, true);
    await handlers.onMessage(parsed.deviceId, parsed.kind, new Uint8Array(payload.buffer, payload.byteOffset, payload.length));
  };

  const subscriptions = ['hello', 'ack', 'report', STATUS_KIND].map((k) => `$share/${o.shareGroup}/pins/v1/+/${k}`);
  // the client ids are a fixed pool leased through the registry: a survivor takes over a dead replica's ids and
  // receives what waits in their sessions (docs/scale.md "Backend connections")
  const pool = new LeasedPool({
    leases: deps.leases,
    clock: deps.clock,
    logger,
    poolSize: o.poolSize,
    share: o.clients,
    timings: defaultTimings(o.leaseMs),
    connectTimeoutMs: o.connectTimeoutMs,
    connection: (slot, gate) =>
      new BackendConnection({
        url, ca, username: o.username, password: secret, clientId: `${o.clientIdPrefix}-${slot}`,
        receiveMaximum: o.receiveMaximum, subscriptions, onMessage, logger, ...gate,
      }),
  });
  let next = 0;

  const publisher: DevicePublisher = {
    // the broker knows who is connected, but tells no client: presence comes from hellos and status wills
    isConnected: (deviceId) => deps.isOnline(deviceId),
    async publish(deviceId, kind, payload) {
      const held = pool.connections();
      const up = held.filter((c) => c.connected);
      // none up: a held one queues it (mqtt.js sends it on reconnect)
      const conn = up[next++ % Math.max(1, up.length)] ?? held[0];
      if (conn === undefined) throw new Error('no backend connection to the external broker (no client id leased)');
      await conn.publish(topicFor(deviceId, kind), payload);
    },
  };

  const credentials: DeviceCredentials = {
    hash: (s) => hashDeviceCredentialPbkdf2(s),
    provisioned: () => passwordFile?.request(),
    // the rewritten file no longer holds the device; on SIGHUP Mosquitto re-checks connected clients and drops it
    revoked: async () => passwordFile?.request(),
  };

  return {
    publisher,
    credentials,
    async start() {
      if (passwordFile !== null) {
        backendLine = `${o.username}:${await hashDeviceCredentialPbkdf2(secret)}`;
        await passwordFile.flush(); // our own user first: the pool cannot connect before the broker knows it
      }
      // a reload takes a moment to apply: each connection retries (reconnectPeriod) until the deadline
      await pool.start();
      logger.info('connected to the external broker', { url: url.href, holder: pool.holder, slots: pool.heldSlots(), poolSize: o.poolSize, group: o.shareGroup });
      const port = Number(url.port === '' ? 8883 : url.port);
      return { mqtt: null, mqtts: { host: url.hostname, port }, broker: url.href };
    },
    reloadTls: () => false,
    async close() {
      passwordFile?.close();
      await pool.close();
    },
  };
}
