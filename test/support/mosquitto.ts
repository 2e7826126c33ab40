import { spawn, execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { waitListening } from './child-process';

const MOSQUITTO = '/usr/sbin/mosquitto';
const CONFIG_DIR = resolve(import.meta.dirname, '../../deploy/mosquitto');

/** A real Mosquitto 2 (Debian) started from the repo's deploy/mosquitto config, on loopback ports, over TLS. */
export interface TestMosquitto {
  readonly dir: string;
  /** The device listener (use_username_as_clientid). */
  readonly devicePort: number;
  /** The gateway's backend listener. */
  readonly backendPort: number;
  /** PINGW_BROKER_URL for the gateway. */
  readonly backendUrl: string;
  readonly deviceUrl: string;
  /**
   * The device listener's own certificate and key files (a copy of the served pair at start): replace both and
   * SIGHUP `pid` to rotate the key devices see, without touching the backend listener (the drill in target mode).
   */
  readonly deviceCertFile: string;
  readonly deviceKeyFile: string;
  /** The test CA that issued the broker certificate (for PINGW_BROKER_CA_FILE and devices). */
  readonly caFile: string;
  readonly caPem: string;
  readonly passwordFile: string;
  readonly pidFile: string;
  readonly gatewayUser: string;
  readonly pid: number;
  log(): string;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((ok) => server.close(() => ok()));
  return port;
}

function openssl(args: string[]): void {
  execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

/** A test CA and a broker certificate it issued (ECDSA P-256, SANs localhost + 127.0.0.1), made with openssl. */
export function makeTestCa(dir: string): { caFile: string; certFile: string; keyFile: string } {
  const caKey = join(dir, 'ca-key.pem');
  const caFile = join(dir, 'ca-cert.pem');
  const keyFile = join(dir, 'broker-key.pem');
  const csr = join(dir, 'broker.csr');
  const certFile = join(dir, 'broker-cert.pem');
  const ext = join(dir, 'broker.ext');
  openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', caKey, '-out', caFile,
    '-days', '2', '-subj', '/CN=pingw test CA']);
  openssl(['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', keyFile, '-out', csr,
    '-subj', '/CN=localhost']);
  writeFileSync(ext, 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
  openssl(['x509', '-req', '-in', csr, '-CA', caFile, '-CAkey', caKey, '-CAcreateserial', '-out', certFile, '-days', '2', '-extfile', ext]);
  return { caFile, certFile, keyFile };
}

function render(template: string, values: Record<string, string | number>): string {
  return template.replace(/\{\{([A-Z_]+)\}\}/g, (_, name: string) => {
    const v = values[name];
    if (v === undefined) throw new Error(`no value for {{${name}}}`);
    return String(v);
  });
}

/** Starts Mosquitto in a temp dir (config rendered from deploy/mosquitto); stop() ends it by its pid. */
export async function startMosquitto(opts: {
  gatewayUser?: string;
  tls?: { certFile: string; keyFile: string };
  /** Fixed loopback ports (scripts/scale-local.ts prints them for people); free ports when absent. */
  ports?: { device?: number; backend?: number };
} = {}): Promise<TestMosquitto> {
  const dir = mkdtempSync(join(tmpdir(), 'pingw-mosquitto-'));
  const ca = makeTestCa(dir);
  // a given pair (e.g. a self-signed key devices pin) replaces the CA-issued one; caFile stays the test CA's
  const tls = opts.tls ?? ca;
  const [devicePort, backendPort] = [opts.ports?.device ?? (await freePort()), opts.ports?.backend ?? (await freePort())];
  const gatewayUser = opts.gatewayUser ?? 'pingw@gateway';
  const deviceCertFile = join(dir, 'device-listener-cert.pem');
  const deviceKeyFile = join(dir, 'device-listener-key.pem');
  copyFileSync(tls.certFile, deviceCertFile);
  copyFileSync(tls.keyFile, deviceKeyFile);
  const values = {
    DIR: dir, USER: process.getuid?.() === 0 ? 'root' : 'mosquitto', CERT_FILE: tls.certFile, KEY_FILE: tls.keyFile,
    DEVICE_CERT_FILE: deviceCertFile, DEVICE_KEY_FILE: deviceKeyFile,
    DEVICE_PORT: devicePort, DEVICE_HOST: '127.0.0.1', BACKEND_PORT: backendPort, BACKEND_HOST: '127.0.0.1', GATEWAY_USER: gatewayUser,
  };
  const conf = join(dir, 'mosquitto.conf');
  writeFileSync(conf, render(readFileSync(join(CONFIG_DIR, 'mosquitto.conf'), 'utf8'), values));
  writeFileSync(join(dir, 'acl'), render(readFileSync(join(CONFIG_DIR, 'acl'), 'utf8'), values));
  const passwordFile = join(dir, 'passwd');
  writeFileSync(passwordFile, '', { mode: 0o600 });
  const logFile = join(dir, 'mosquitto.log');
  writeFileSync(logFile, '');
  const child = spawn(MOSQUITTO, ['-c', conf], { stdio: 'ignore' });
  await waitListening(backendPort, child, 'mosquitto', () => readFileSync(logFile, 'utf8'), 200);
  await waitListening(devicePort, child, 'mosquitto', () => readFileSync(logFile, 'utf8'), 200);
  const pid = child.pid!;
  // a test process that ends without stop() (a failed hook, Ctrl-C of a bench) takes its broker with it
  const orphanGuard = () => child.exitCode === null && child.kill('SIGTERM');
  process.once('exit', orphanGuard);
  return {
    dir, devicePort, backendPort, gatewayUser, pid, deviceCertFile, deviceKeyFile,
    backendUrl: `mqtts://localhost:${backendPort}`,
    deviceUrl: `mqtts://localhost:${devicePort}`,
    caFile: ca.caFile,
    caPem: readFileSync(ca.caFile, 'utf8'),
    passwordFile,
    pidFile: join(dir, 'mosquitto.pid'),
    log: () => readFileSync(logFile, 'utf8'),
    async stop() {
      process.off('exit', orphanGuard);
      if (child.exitCode === null) {
        const exited = new Promise<void>((ok) => child.once('exit', () => ok()));
        process.kill(pid, 'SIGTERM');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
