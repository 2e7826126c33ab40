import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { X509Certificate } from 'node:crypto';

export interface TlsMaterial {
  certFile: string;
  keyFile: string;
  cert: Buffer;
  key: Buffer;
  /** True when this start generated the pair. */
  generated: boolean;
}

/**
 * Node has no certificate generator, so a missing broker certificate is made with the `openssl` CLI
 * (present on Debian/Ubuntu images and macOS): an ECDSA P-256 key and a self-signed certificate valid
 * for 825 days, with the configured host names as subject alternative names. Devices pin or trust it explicitly.
 */
export function generateSelfSignedCert(dir: string, hostnames: readonly string[]): { certFile: string; keyFile: string } {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const certFile = join(dir, 'broker-cert.pem');
  const keyFile = join(dir, 'broker-key.pem');
  const san = hostnames.map((h) => (/^[0-9.]+$|:/.test(h) ? `IP:${h}` : `DNS:${h}`)).join(',');
  const args = [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
    '-keyout', keyFile, '-out', certFile, '-days', '825',
    '-subj', `/CN=${hostnames[0] ?? 'pin-gateway'}`, '-addext', `subjectAltName=${san}`,
  ];
  try {
    execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (err) {
    rmSync(keyFile, { force: true });
    rmSync(certFile, { force: true });
    const reason = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'the openssl command is not installed' : String(err);
    throw new Error(
      `cannot generate the broker TLS certificate (${reason}); install openssl or set PINGW_TLS_CERT_FILE and PINGW_TLS_KEY_FILE`,
    );
  }
  chmodSync(keyFile, 0o600);
  return { certFile, keyFile };
}

/** Loads the configured certificate and key, or generates a self-signed pair in dataDir/tls on first start. */
export function ensureTlsMaterial(
  configured: { certFile: string; keyFile: string } | null,
  dataDir: string,
  hostnames: readonly string[],
): TlsMaterial {
  let files = configured;
  let generated = false;
  if (files === null) {
    const dir = join(dataDir, 'tls');
    const certFile = join(dir, 'broker-cert.pem');
    const keyFile = join(dir, 'broker-key.pem');
    if (existsSync(certFile) && existsSync(keyFile)) {
      files = { certFile, keyFile };
    } else {
      files = generateSelfSignedCert(dir, hostnames);
      generated = true;
    }
  }
  const cert = readFileSync(files.certFile);
  const key = readFileSync(files.keyFile);
  new X509Certificate(cert); // fail early, naming the file, on a certificate that does not parse
  return { ...files, cert, key, generated };
}
