import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pinFromCertificate } from '../../../shared/index';

/** A TLS key pair for a test server, made with the openssl CLI (present on the CI image: `which openssl`). */
export interface TestCert {
  readonly certPem: string;
  readonly keyPem: string;
  readonly certFile: string;
  readonly keyFile: string;
  readonly pin: Uint8Array;
}

/** Self-signed ECDSA P-256 certificate with the names as SANs; being self-signed it is also its own CA. */
export function makeCert(dir: string, name: string, hostnames: readonly string[]): TestCert {
  mkdirSync(dir, { recursive: true });
  const certFile = join(dir, `${name}-cert.pem`);
  const keyFile = join(dir, `${name}-key.pem`);
  const san = hostnames.map((h) => (/^[0-9.]+$/.test(h) ? `IP:${h}` : `DNS:${h}`)).join(',');
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', keyFile, '-out', certFile,
    '-days', '30', '-subj', `/CN=${hostnames[0] ?? name}`, '-addext', `subjectAltName=${san}`,
  ], { stdio: ['ignore', 'ignore', 'pipe'] });
  const certPem = readFileSync(certFile, 'utf8');
  return { certPem, keyPem: readFileSync(keyFile, 'utf8'), certFile, keyFile, pin: pinFromCertificate(certPem) };
}
