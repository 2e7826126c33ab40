import { connect, type PeerCertificate } from 'node:tls';
import { pinFromCertificate } from './pin';

export interface ServerPins {
  /** Pin of the leaf certificate's key. */
  readonly leaf: Uint8Array;
  /** Pins of every certificate the server sent, leaf first. */
  readonly chain: readonly Uint8Array[];
}

export interface FetchServerPinsOptions {
  readonly timeoutMs?: number;
  /** SNI name; defaults to the host when it is a name. */
  readonly servername?: string;
}

/**
 * Connects to a live TLS server and pins the keys it serves. The chain is not validated here: this reads what
 * the server presents (the pin check is the point), it does not trust it. Rejects on network errors and timeouts.
 */
export function fetchServerPins(host: string, port: number, opts: FetchServerPinsOptions = {}): Promise<ServerPins> {
  if (typeof host !== 'string' || host.length === 0) throw new TypeError('fetchServerPins: "host" must be a host name');
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new TypeError('fetchServerPins: "port" must be 1..65535');
  const timeoutMs = opts.timeoutMs ?? 5000;
  const isIp = /^[\d.]+$|:/.test(host);
  return new Promise((resolve, reject) => {
    const socket = connect({
      host,
      port,
      rejectUnauthorized: false,
      ...(opts.servername !== undefined ? { servername: opts.servername } : isIp ? {} : { servername: host }),
    });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`TLS handshake with ${host}:${port} timed out after ${timeoutMs} ms`));
    }, timeoutMs);
    socket.once('secureConnect', () => {
      clearTimeout(timer);
      try {
        const chain: Uint8Array[] = [];
        let cert: PeerCertificate | undefined = socket.getPeerCertificate(true);
        const seen = new Set<PeerCertificate>();
        while (cert && cert.raw && !seen.has(cert)) {
          seen.add(cert);
          chain.push(pinFromCertificate(new Uint8Array(cert.raw)));
          const next: PeerCertificate | undefined = (cert as PeerCertificate & { issuerCertificate?: PeerCertificate }).issuerCertificate;
          cert = next && next !== cert ? next : undefined;
        }
        socket.end();
        const leaf = chain[0];
        if (leaf === undefined) reject(new Error(`${host}:${port} presented no certificate`));
        else resolve({ leaf, chain });
      } catch (e) {
        socket.destroy();
        reject(e as Error);
      }
    });
    socket.once('error', (e) => {
      clearTimeout(timer);
      reject(new Error(`TLS connection to ${host}:${port} failed: ${e.message}`));
    });
  });
}
