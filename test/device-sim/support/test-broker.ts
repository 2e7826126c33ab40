import { createServer, type Server } from 'node:tls';
import type { AddressInfo } from 'node:net';
import { parseTopic, topicFor, type TopicKind } from '../../../shared/index';

/**
 * A real aedes broker over node:tls standing in for the gateway's broker (not ready yet). It enforces SPEC §6
 * like the gateway must: every client authenticates; a device (username = deviceId = clientId) may publish only
 * on its own hello/ack/report topics and subscribe only to its own update/keyset topics; the "gateway" user may
 * publish updates/keysets and subscribe to hello/ack/report of every device. Never accept-everyone hooks
 * (docs/library-notes.md: aedes defaults accept everyone).
 */
export interface TestBroker {
  readonly port: number;
  readonly server: Server;
  /** Serve another certificate from now on (pin mismatch tests). */
  setCert(certPem: string, keyPem: string): void;
  /** Outcomes of authorisation checks, newest last: for the rogue table. */
  readonly refusals: string[];
  close(): Promise<void>;
}

export interface TestBrokerOptions {
  readonly certPem: string;
  readonly keyPem: string;
  /** deviceId → credential */
  readonly devices: Map<string, string>;
  readonly gateway: { readonly username: string; readonly password: string };
  readonly port?: number;
}

const DEVICE_PUB: readonly TopicKind[] = ['hello', 'ack', 'report'];
const DEVICE_SUB: readonly TopicKind[] = ['update', 'keyset'];
const GATEWAY_SUBS = new Set(['pins/v1/+/hello', 'pins/v1/+/ack', 'pins/v1/+/report']);

export async function startTestBroker(o: TestBrokerOptions): Promise<TestBroker> {
  const { Aedes } = await import('aedes');
  const roles = new Map<string, 'device' | 'gateway'>(); // client id → role, set at authentication
  const refusals: string[] = [];
  const broker = await Aedes.createBroker({
    heartbeatInterval: 3_600_000,
    drainTimeout: 10_000,
    authenticate: (client, username, password, done) => {
      const pw = password?.toString('utf8');
      if (username === o.gateway.username && pw === o.gateway.password) {
        roles.set(client.id, 'gateway');
        return done(null, true);
      }
      const cred = username !== undefined ? o.devices.get(username) : undefined;
      if (cred !== undefined && pw === cred && client.id === username) {
        roles.set(client.id, 'device');
        return done(null, true);
      }
      refusals.push(`authenticate ${String(username)}: refused`);
      const e = Object.assign(new Error('bad credentials'), { returnCode: 4 as const });
      return done(e, false);
    },
    authorizePublish: (client, packet, done) => {
      if (client === null) return done(null);
      const role = roles.get(client.id);
      const t = parseTopic(packet.topic);
      const ok = t !== null && (role === 'gateway'
        ? t.kind === 'update' || t.kind === 'keyset'
        : role === 'device' && t.deviceId === client.id && DEVICE_PUB.includes(t.kind));
      if (ok) return done(null);
      refusals.push(`publish ${client.id} → ${packet.topic}: refused`);
      return done(new Error('publish not authorised')); // MQTT 3.1.1 has no negative PUBACK: aedes closes the connection
    },
    authorizeSubscribe: (client, sub, done) => {
      const role = roles.get(client.id);
      const t = parseTopic(sub.topic);
      const ok = role === 'gateway'
        ? GATEWAY_SUBS.has(sub.topic)
        : role === 'device' && t !== null && t.deviceId === client.id && DEVICE_SUB.includes(t.kind);
      if (ok) return done(null, sub);
      refusals.push(`subscribe ${client.id} → ${sub.topic}: refused`);
      return done(null, null); // SUBACK return code 0x80 ([MQTT-3.9.3-2])
    },
  });
  const server = createServer({ cert: o.certPem, key: o.keyPem }, (socket) => broker.handle(socket));
  server.on('tlsClientError', () => {}); // a device refusing our key aborts the handshake: expected in tests
  await new Promise<void>((resolve) => server.listen(o.port ?? 0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    server,
    refusals,
    setCert: (certPem, keyPem) => server.setSecureContext({ cert: certPem, key: keyPem }),
    close: async () => {
      await new Promise<void>((resolve) => broker.close(() => resolve()));
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export { topicFor };
