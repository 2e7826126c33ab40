import { execFileSync } from 'node:child_process';
import { copyFile, mkdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { formatPin, pinFromCertificate } from '../../shared/index';

/** A broker TLS key the drill can install: certificate + key files made by openssl, and the key's pin. */
export interface BrokerKey {
  readonly name: string;
  readonly certFile: string;
  readonly keyFile: string;
  /** sha256/… of the key (SPEC §1). */
  readonly pin: string;
}

/**
 * Makes a self-signed ECDSA P-256 certificate for the broker's host name with the openssl CLI (as an operator
 * would). Devices pin the key, so no CA is involved.
 */
export async function makeBrokerKey(dir: string, name: string, hostname: string): Promise<BrokerKey> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const certFile = join(dir, `${name}-cert.pem`);
  const keyFile = join(dir, `${name}-key.pem`);
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', keyFile, '-out', certFile,
    '-days', '825', '-subj', `/CN=${hostname}`, '-addext', `subjectAltName=DNS:${hostname}`,
  ], { stdio: ['ignore', 'ignore', 'pipe'] });
  return { name, certFile, keyFile, pin: formatPin(pinFromCertificate(await readFile(certFile, 'utf8'))) };
}

/**
 * The files the gateway serves (PINGW_TLS_CERT_FILE / PINGW_TLS_KEY_FILE). Installing a key replaces both files;
 * the gateway picks them up on SIGHUP. The key is copied first: a SIGHUP between the two copies would find a
 * mismatched pair, which the gateway refuses (it keeps serving the previous key).
 */
export class ServedKeyFiles {
  readonly certFile: string;
  readonly keyFile: string;

  constructor(dir: string) {
    this.certFile = join(dir, 'broker-cert.pem');
    this.keyFile = join(dir, 'broker-key.pem');
  }

  async install(key: BrokerKey): Promise<void> {
    await mkdir(dirname(this.certFile), { recursive: true, mode: 0o700 });
    await copyFile(key.keyFile, this.keyFile);
    await copyFile(key.certFile, this.certFile);
  }
}
