import { createServer, type Server, type Socket } from 'node:net';
import { TLSSocket, type SecureContext } from 'node:tls';

/**
 * The MQTT/TLS listener with admission control (issues 14 and 17). node's tls.Server starts every handshake the
 * moment a connection arrives: under a cold start of thousands of devices they all compete for the CPU, the
 * handshakes finish quickly but their CONNECTs pile up behind the credential checks (scrypt), clients time out
 * there after the gateway has already spent a handshake on them, retry, and the storm feeds itself.
 *
 * Here a connection holds one of `maxInProgress` slots from the start of its handshake until its CONNACK is sent
 * (`settle`, called by the broker) or it closes: the whole pipeline handshake → CONNECT → credential check is
 * bounded, so each admitted device is answered within a short time, and the backlog waits, unread by TLS, where
 * waiting costs the gateway no CPU (fresh connections first, in arrival order: see `next`). A waiting connection's bytes (its ClientHello) are read
 * into a small buffer and handed to TLS when its turn comes, so a client that gives up while waiting (FIN or RST)
 * is seen and skipped without a handshake. Each handshake has its own timeout, started when it starts, so waiting
 * in line never counts against a device; a silent client (no ClientHello) is closed after `handshakeTimeoutMs`,
 * and nobody waits longer than `maxWaitMs`.
 */
export interface TlsAdmissionOptions {
  /** Connections between the start of their handshake and their CONNACK (or close). */
  maxInProgress: number;
  handshakeTimeoutMs: number;
  maxWaitMs: number;
  maxWaiting: number;
  /** A waiting client that sends more than this before its handshake is not speaking TLS honestly: closed. */
  maxBufferedBytes: number;
  /** After this long in line a connection is served only when no fresher one waits (see `next`). */
  staleAfterMs: number;
}

export const DEFAULT_TLS_ADMISSION: TlsAdmissionOptions = {
  maxInProgress: 32, handshakeTimeoutMs: 10_000, maxWaitMs: 60_000, maxWaiting: 20_000, maxBufferedBytes: 16_384, staleAfterMs: 5_000,
};

export interface TlsAdmissionStats {
  /** Connections holding a slot now (handshake started, no CONNACK yet). */
  inProgress: number;
  waiting: number;
  /** Handshakes started / timed out (no ClientHello or no finish within handshakeTimeoutMs). */
  handshakesStarted: number;
  timedOut: number;
  /** Refused at accept because `maxWaiting` connections already wait. */
  refusedFull: number;
  /** Clients that closed while waiting (FIN or RST): skipped without a handshake. */
  skippedGone: number;
  /** Closed after waiting `maxWaitMs`, or for sending too much before their handshake. */
  expiredWaiting: number;
}

export interface AdmittedTlsServer {
  readonly server: Server;
  setSecureContext(context: SecureContext): void;
  /** The broker sent this connection's CONNACK: its slot goes to the next waiting connection. */
  settle(socket: unknown): void;
  /** Destroys every connection still waiting or in its handshake (shutdown). */
  destroyPending(): void;
  readonly stats: TlsAdmissionStats;
}

interface Waiting {
  raw: Socket;
  since: number;
  chunks: Buffer[];
  bytes: number;
  gone: boolean;
  started: boolean;
  expired: boolean;
  onData: (chunk: Buffer) => void;
}

export function createAdmittedTlsServer(
  context: SecureContext,
  onSecure: (socket: TLSSocket) => void,
  refuse: (address: string | undefined) => boolean,
  options: TlsAdmissionOptions = DEFAULT_TLS_ADMISSION,
  now: () => number = Date.now,
): AdmittedTlsServer {
  let secureContext = context;
  const fresh: Waiting[] = [];
  const stale: Waiting[] = [];
  const stats: TlsAdmissionStats = { inProgress: 0, waiting: 0, handshakesStarted: 0, timedOut: 0, refusedFull: 0, skippedGone: 0, expiredWaiting: 0 };
  /** Release functions of the connections holding a slot, by TLS socket. */
  const slots = new Map<TLSSocket, () => void>();
  const pending = new Set<Socket>();

  /**
   * Fresh connections are served first, in arrival order; one that has waited `staleAfterMs` moves to the stale
   * line, served only when no fresh connection waits. Under overload the oldest client is the one closest to its
   * own timeout (device-sim gives a handshake 10 s, mqtt.js 30 s to CONNACK): serving it first spends a handshake
   * and a credential check on a client that gives up before its CONNACK, and the storm feeds itself. Serving the
   * fresh ones gives the same throughput with every admitted client answered in time; a stale one still gets its
   * turn as soon as the fresh line is empty, or gives up at no cost.
   */
  const next = (): Waiting | undefined => {
    const t = now();
    while (fresh.length > 0 && t - fresh[0]!.since >= options.staleAfterMs) stale.push(fresh.shift()!);
    return fresh.shift() ?? stale.shift();
  };

  const pump = () => {
    while (stats.inProgress < options.maxInProgress) {
      const w = next();
      if (w === undefined) return;
      if (w.gone) {
        if (!w.expired) stats.skippedGone += 1; // the client gave up while waiting: no handshake for it
        w.raw.destroy();
        continue;
      }
      stats.waiting -= 1;
      if (now() - w.since > options.maxWaitMs) {
        stats.expiredWaiting += 1;
        w.raw.destroy();
        continue;
      }
      start(w);
    }
  };

  const start = (w: Waiting) => {
    const { raw } = w;
    w.started = true;
    raw.off('data', w.onData);
    raw.pause();
    // the bytes read while waiting (the ClientHello) go back in front: TLSSocket feeds a wrapped socket's
    // buffered data to its TLS engine first
    if (w.chunks.length > 0) raw.unshift(Buffer.concat(w.chunks));
    stats.inProgress += 1;
    stats.handshakesStarted += 1;
    const tls = new TLSSocket(raw, { isServer: true, secureContext });
    let held = true;
    const release = () => {
      if (!held) return;
      held = false;
      clearTimeout(timer);
      slots.delete(tls);
      stats.inProgress -= 1;
      setImmediate(pump);
    };
    slots.set(tls, release);
    const timer = setTimeout(() => {
      stats.timedOut += 1;
      tls.destroy();
    }, options.handshakeTimeoutMs);
    tls.on('error', () => tls.destroy());
    tls.once('close', release);
    tls.once('secure', () => {
      clearTimeout(timer); // from here the broker's CONNECT timeout applies; the slot is held until the CONNACK
      pending.delete(raw);
      onSecure(tls);
    });
  };

  const server = createServer((raw) => {
    raw.on('error', () => {});
    pending.add(raw);
    raw.once('close', () => pending.delete(raw));
    if (refuse(raw.remoteAddress)) return raw.destroy();
    if (stats.waiting >= options.maxWaiting) {
      stats.refusedFull += 1;
      return raw.destroy();
    }
    const w: Waiting = {
      raw, since: now(), chunks: [], bytes: 0, gone: false, started: false, expired: false,
      onData: (chunk) => {
        w.bytes += chunk.length;
        w.chunks.push(chunk);
        if (w.bytes > options.maxBufferedBytes) {
          stats.expiredWaiting += 1;
          w.expired = true;
          raw.destroy(); // no longer waiting: see gone() below
        }
      },
    };
    raw.on('data', w.onData);
    // a client that gave up while waiting: FIN ('end') or RST ('close'); its entry is skipped when its turn comes
    const gone = () => {
      if (w.started || w.gone) return;
      w.gone = true;
      stats.waiting -= 1; // live waiting connections only; the entry is skipped when its turn comes
      // many gave up behind a stuck line: drop their entries now rather than hold them until their turn
      if (fresh.length + stale.length > 2 * stats.waiting + 1024) {
        for (const line of [fresh, stale]) {
          const live = line.filter((x) => !x.gone);
          for (const x of line) {
            if (!x.gone) continue;
            if (!x.expired) stats.skippedGone += 1;
            x.raw.destroy();
          }
          line.splice(0, line.length, ...live);
        }
      }
    };
    raw.once('end', gone);
    raw.once('close', gone);
    fresh.push(w);
    stats.waiting += 1;
    pump();
  });

  return {
    server,
    stats,
    settle(socket) {
      if (socket instanceof TLSSocket) slots.get(socket)?.();
    },
    destroyPending() {
      for (const raw of pending) raw.destroy();
      pending.clear();
    },
    setSecureContext(context) {
      secureContext = context; // new handshakes get it; established connections keep theirs
    },
  };
}
