import { Duplex } from 'node:stream';
import { connect, type PeerCertificate, type TLSSocket } from 'node:tls';
import { pinFromCertificate } from '../shared/index';
import type { TrustDecision } from './pin-policy';

/**
 * A TLS connection to the broker whose application data is held back until the device's own trust decision
 * (pin check, SPEC §1/§6) has been made on the peer certificate at `secureConnect`.
 *
 * mqtt.js writes CONNECT (with the device's credential) as soon as its stream exists; Node only runs
 * `checkServerIdentity` after a successful CA chain check, and a pinned broker usually has no CA chain the
 * device could validate (self-signed key, pinned). So the socket is opened with rejectUnauthorized: false and
 * this gate buffers every write until the decision allows the peer; on refusal the socket is destroyed and
 * nothing — in particular not the password — ever reaches the impostor.
 */
export interface PinnedTlsOptions {
  /** Where to connect (the host → address mapping: e.g. mqtt.example.com → 127.0.0.1). */
  readonly address: string;
  readonly port: number;
  /** The name the device believes it talks to: SNI and the name of its pin-set entry. */
  readonly servername: string;
  /** CA certificates for ordinary validation (fail-open and unpinned hosts). */
  readonly ca?: string | Buffer;
  readonly handshakeTimeoutMs?: number;
  readonly decide: (served: Uint8Array[], caValid: boolean) => TrustDecision;
  readonly onDecision?: (decision: TrustDecision, served: Uint8Array[]) => void;
}

export class PinRefusedError extends Error {
  readonly code = 'E_PIN_REFUSED';
  constructor(message: string, readonly served: readonly Uint8Array[]) {
    super(message);
  }
}

/** Pins of every certificate the peer presented, leaf first. */
export function servedChainPins(socket: TLSSocket): Uint8Array[] {
  const pins: Uint8Array[] = [];
  const seen = new Set<PeerCertificate>();
  let cert: PeerCertificate | undefined = socket.getPeerCertificate(true);
  while (cert !== undefined && cert.raw !== undefined && !seen.has(cert) && pins.length < 16) {
    seen.add(cert);
    pins.push(pinFromCertificate(new Uint8Array(cert.raw)));
    const next: PeerCertificate | undefined = (cert as PeerCertificate & { issuerCertificate?: PeerCertificate }).issuerCertificate;
    cert = next !== undefined && next !== cert ? next : undefined;
  }
  return pins;
}

export function pinnedTlsStream(o: PinnedTlsOptions): Duplex {
  let open = false;
  const pending: Array<{ chunk: Buffer; cb: (e?: Error | null) => void }> = [];
  const socket = connect({
    host: o.address,
    port: o.port,
    servername: o.servername,
    rejectUnauthorized: false, // the decision below is the check; see the comment above
    ...(o.ca !== undefined ? { ca: o.ca } : {}),
  });
  const timer = setTimeout(() => socket.destroy(new Error(`TLS handshake with ${o.servername} timed out`)), o.handshakeTimeoutMs ?? 10_000);
  timer.unref();

  const gate = new Duplex({
    write(chunk: Buffer, _enc, cb) {
      if (open) socket.write(chunk, cb);
      else pending.push({ chunk, cb });
    },
    read() {
      socket.resume();
    },
    final(cb) {
      socket.end();
      cb();
    },
    destroy(err, cb) {
      clearTimeout(timer);
      socket.destroy();
      for (const p of pending.splice(0)) p.cb(err ?? new Error('stream closed'));
      cb(err);
    },
  });

  socket.once('secureConnect', () => {
    clearTimeout(timer);
    let served: Uint8Array[] = [];
    let decision: TrustDecision;
    try {
      served = servedChainPins(socket);
      decision = o.decide(served, socket.authorized);
    } catch (e) {
      decision = { allow: false, reason: `cannot read the peer certificate: ${(e as Error).message}` };
    }
    o.onDecision?.(decision, served);
    if (!decision.allow) {
      gate.destroy(new PinRefusedError(decision.reason, served));
      return;
    }
    open = true;
    for (const p of pending.splice(0)) socket.write(p.chunk, p.cb);
  });
  socket.on('data', (b: Buffer) => {
    if (!gate.push(b)) socket.pause();
  });
  socket.on('end', () => gate.push(null));
  socket.on('close', () => gate.destroy());
  socket.on('error', (e: NodeJS.ErrnoException) => {
    // mqtt.js forwards stream errors to the client only when they carry a code.
    if (e.code === undefined) Object.assign(e, { code: 'E_TLS' });
    gate.destroy(e);
  });
  return gate;
}
