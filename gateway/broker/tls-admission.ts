import { createServer, type Server, type Socket } from 'node:net';
import { TLSSocket, type SecureContext } from 'node:tls';

/**
 * The MQTT/TLS listener with admission control (issue 17). node's tls.Server starts every handshake the moment a
 * connection arrives: under a cold start of thousands of devices they all compete for the CPU, none finishes in
 * time, clients give up and retry, and the storm feeds itself. Here at most `maxHandshakes` handshakes run at
 * once; further connections wait, unread, in arrival order (a waiting client that gives up is skipped). Each
 * handshake has its own timeout, started when it starts, so waiting in line never counts against a device; a
 * silent client (no ClientHello) is closed after `handshakeTimeoutMs`, and nobody waits longer than `maxWaitMs`.
 */
export interface TlsAdmissionOptions {
  maxHandshakes: number;
  handshakeTimeoutMs: number;
  maxWaitMs: number;
  maxWaiting: number;
}

export const DEFAULT_TLS_ADMISSION: TlsAdmissionOptions = { maxHandshakes: 64, handshakeTimeoutMs: 10_000, maxWaitMs: 60_000, maxWaiting: 20_000 };

export interface AdmittedTlsServer {
  readonly server: Server;
  setSecureContext(context: SecureContext): void;
  /** Destroys every connection still waiting or in its handshake (shutdown). */
  destroyPending(): void;
  readonly stats: { handshakes: number; waiting: number; timedOut: number; refusedFull: number };
}

export function createAdmittedTlsServer(
  context: SecureContext,
  onSecure: (socket: TLSSocket) => void,
  refuse: (address: string | undefined) => boolean,
  options: TlsAdmissionOptions = DEFAULT_TLS_ADMISSION,
): AdmittedTlsServer {
  let secureContext = context;
  const waiting: { raw: Socket; since: number }[] = [];
  const stats = { handshakes: 0, waiting: 0, timedOut: 0, refusedFull: 0 };

  const pump = () => {
    while (stats.handshakes < options.maxHandshakes && waiting.length > 0) {
      const { raw, since } = waiting.shift()!;
      stats.waiting = waiting.length;
      if (raw.destroyed) continue; // the client gave up while waiting: no handshake for it
      if (Date.now() - since > options.maxWaitMs) {
        raw.destroy();
        continue;
      }
      start(raw);
    }
  };

  const start = (raw: Socket) => {
    stats.handshakes += 1;
    const tls = new TLSSocket(raw, { isServer: true, secureContext });
    let done = false;
    const release = () => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      stats.handshakes -= 1;
      setImmediate(pump);
    };
    const timer = setTimeout(() => {
      stats.timedOut += 1;
      tls.destroy();
    }, options.handshakeTimeoutMs);
    tls.on('error', () => tls.destroy());
    tls.once('close', release);
    tls.once('secure', () => {
      pending.delete(raw);
      release();
      onSecure(tls);
    });
  };

  const pending = new Set<Socket>();
  const server = createServer((raw) => {
    raw.on('error', () => {});
    pending.add(raw);
    raw.once('close', () => pending.delete(raw));
    if (refuse(raw.remoteAddress)) return raw.destroy();
    if (waiting.length >= options.maxWaiting) {
      stats.refusedFull += 1;
      return raw.destroy();
    }
    waiting.push({ raw, since: Date.now() });
    stats.waiting = waiting.length;
    pump();
  });

  return {
    server,
    stats,
    destroyPending() {
      for (const raw of pending) raw.destroy();
      pending.clear();
    },
    setSecureContext(context) {
      secureContext = context; // new handshakes get it; established connections keep theirs
    },
  };
}
