/**
 * Child process of the fleet bench: the bare aedes broker (issue 14's baseline). The same aedes version and the
 * same options as the gateway's embedded broker (concurrency, queue limit, CONNECT timeout), the same TLS
 * certificate, a user name + credential check against an in-memory map (no registry, no scrypt: cheaper than the
 * gateway's), no ACL, and an in-process publisher that sends the envelope to every device's update topic with
 * `aedes.publish` (as the gateway does) and counts the acks in authorizePublish (where the gateway takes them). A /health HTTP route on the same event loop
 * measures what an API beside the broker would answer during the connect storm.
 */
import { readFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { timingSafeEqual } from 'node:crypto';
import { Aedes, type AuthenticateError, type Client } from 'aedes';
import { decodeAck, parseTopic, topicFor } from '../../shared/index';
import { AckCounter, paced, type BareChildMessage, type BareParentMessage } from './bare-ipc';

interface Config {
  readonly certFile: string;
  readonly keyFile: string;
  /** JSON: [[deviceId, credential], …] */
  readonly credentialsFile: string;
}

const send = (m: BareChildMessage) => process.send?.(m);
const config = JSON.parse(process.argv[2] ?? '{}') as Config;
const credentials = new Map<string, Buffer>(
  (JSON.parse(readFileSync(config.credentialsFile, 'utf8')) as [string, string][]).map(([id, c]) => [id, Buffer.from(c)]),
);

let seq = 0;
const counter = new AckCounter(() => seq);
let stopped = false;

const aedes = await Aedes.createBroker({
  authenticate: (client: Client, username: string | undefined, password: Buffer | undefined, done: (e: AuthenticateError | null, ok: boolean) => void) => {
    const want = username === undefined ? undefined : credentials.get(username);
    const ok = want !== undefined && password !== undefined && username === client.id && password.length === want.length && timingSafeEqual(password, want);
    if (ok) done(null, true);
    else done(Object.assign(new Error('bad user name or password'), { returnCode: 4 }) as AuthenticateError, false);
  },
  // Acks are counted where the gateway's embedded broker handles device messages: in authorizePublish, before
  // aedes' publish pipeline (the 'publish' event comes after the QoS 1 fan-out queue and lags by seconds under load)
  authorizePublish: (client: Client | null, packet: { topic: string; payload: Buffer | string }, done: (e?: Error | null) => void) => {
    const t = parseTopic(packet.topic);
    if (client !== null && t !== null && t.kind === 'ack') {
      const payload = typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload;
      const r = decodeAck(new Uint8Array(payload));
      counter.add(t.deviceId, r.ok ? r.value : null);
    }
    done(null);
  },
  connectTimeout: 10_000,
  maxClientsIdLength: 128,
  concurrency: 1000,
  queueLimit: 64,
});
const tls = createTlsServer({ cert: readFileSync(config.certFile), key: readFileSync(config.keyFile), minVersion: 'TLSv1.2' }, (socket) => {
  socket.on('error', () => {});
  aedes.handle(socket);
});
await new Promise<void>((ok) => tls.listen(0, '127.0.0.1', ok));
const http = createHttpServer((_req, res) => res.end('{"ok":true}'));
await new Promise<void>((ok) => http.listen(0, '127.0.0.1', ok));

const report = setInterval(() => send({ type: 'acks', ...counter.snapshot() }), 100);
process.on('message', (m: BareParentMessage) => {
  if (m.type === 'stop') {
    stopped = true;
    clearInterval(report);
    tls.close();
    http.close();
    aedes.close(() => process.exit(0));
    setTimeout(() => process.exit(0), 5_000).unref();
    return;
  }
  seq = m.seq;
  const payload = Buffer.from(m.envelopeB64, 'base64');
  void paced(m.deviceIds, m.ratePerSec, (id) => {
    aedes.publish({ cmd: 'publish', topic: topicFor(id, 'update'), payload, qos: 1, retain: false, dup: false }, (err) => {
      if (err) send({ type: 'error', message: `publish to ${id}: ${err.message}` });
    });
    counter.published++;
  }, () => stopped);
});
send({ type: 'ready', mqttsPort: (tls.address() as AddressInfo).port, httpPort: (http.address() as AddressInfo).port });
