import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';

export interface TestCert {
  readonly keyPem: string;
  readonly certPem: string;
  readonly dir: string;
}

/** A self-signed certificate made by the openssl CLI (Debian's openssl package; .ci/run installs it). */
export function makeCert(cn = 'localhost', curve: 'ec' | 'rsa' = 'ec'): TestCert {
  const dir = mkdtempSync(join(tmpdir(), 'pingw-cert-'));
  const key = join(dir, 'key.pem');
  const cert = join(dir, 'cert.pem');
  const keyArgs = curve === 'ec' ? ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'] : ['-newkey', 'rsa:2048'];
  execFileSync('openssl', ['req', '-x509', ...keyArgs, '-nodes', '-keyout', key, '-out', cert, '-days', '2',
    '-subj', `/CN=${cn}`, '-addext', `subjectAltName=DNS:${cn},IP:127.0.0.1`], { stdio: 'ignore' });
  return { keyPem: readFileSync(key, 'utf8'), certPem: readFileSync(cert, 'utf8'), dir };
}

/** A TLS server on 127.0.0.1 and an ephemeral port that completes handshakes and closes. */
export async function startTlsServer(cert: TestCert): Promise<{ port: number; server: Server; close(): Promise<void> }> {
  const server = createServer({ key: cert.keyPem, cert: cert.certPem }, (s) => s.end());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return { port, server, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

/** The pin openssl computes for a certificate: an independent reference for ours (RFC 7469 §2.4). */
export function opensslPin(certPem: string): string {
  const spki = execFileSync('sh', ['-c', 'openssl x509 -pubkey -noout | openssl pkey -pubin -outform der | openssl dgst -sha256 -binary | base64'], { input: certPem });
  return `sha256/${spki.toString().trim()}`;
}
