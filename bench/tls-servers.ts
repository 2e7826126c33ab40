/**
 * The servers `npm run bench -- tls` compares, each in its own process so that its CPU time (/proc/<pid>/stat) and
 * RSS (/proc/<pid>/status) are its own: bare node:tls, bare aedes over node:tls (no registry, no admission), the
 * gateway (`node --import tsx gateway/main.ts`, its embedded broker) and Mosquitto 2. All serve the same
 * certificate and key (ECDSA P-256, as the gateway generates) with TLS 1.2 as the floor.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { GatewayProcess } from '../device-sim/drill/gateway-process';
import { waitListening } from '../test/support/child-process';

export interface BenchServer {
  readonly name: string;
  readonly pid: number;
  readonly port: number;
  /** The gateway's API (to enrol devices); absent elsewhere. */
  readonly gateway?: GatewayProcess;
  stop(): Promise<void>;
}

export interface ServerFiles {
  readonly dir: string;
  readonly certFile: string;
  readonly keyFile: string;
  readonly root: string;
}

/** CPU seconds (user + system) used so far by a process (clock ticks of 1/100 s). */
export async function procCpuSec(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** VmRSS of a process, bytes. */
export async function procRss(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1] ?? NaN) * 1024;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((ok) => server.close(() => ok()));
  return port;
}

function stopper(child: ChildProcess): () => Promise<void> {
  const guard = () => child.exitCode === null && child.kill('SIGKILL');
  process.once('exit', guard);
  return async () => {
    process.off('exit', guard);
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((ok) => child.once('exit', () => ok()));
    child.kill('SIGTERM');
    const kill = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(kill);
  };
}

/** Bare node:tls: handshake, then hold the connection until the client closes it. */
const BARE_TLS = `
import { createServer } from 'node:tls';
import { readFileSync } from 'node:fs';
const server = createServer({ cert: readFileSync(process.env.CERT), key: readFileSync(process.env.KEY), minVersion: 'TLSv1.2' }, (s) => {
  s.on('error', () => {});
});
server.on('tlsClientError', () => {});
server.listen(Number(process.env.PORT), '127.0.0.1');
`;

/** Bare aedes over node:tls: no authentication (every CONNECT accepted), no ACL, no admission. */
const BARE_AEDES = `
import { createServer } from 'node:tls';
import { readFileSync } from 'node:fs';
import { Aedes } from 'aedes';
const aedes = await Aedes.createBroker({ concurrency: 1000, queueLimit: 64 });
const server = createServer({ cert: readFileSync(process.env.CERT), key: readFileSync(process.env.KEY), minVersion: 'TLSv1.2' }, (s) => {
  s.on('error', () => {});
  aedes.handle(s);
});
server.on('tlsClientError', () => {});
server.listen(Number(process.env.PORT), '127.0.0.1');
`;

async function nodeServer(name: string, script: string, f: ServerFiles): Promise<BenchServer> {
  const port = await freePort();
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
    cwd: f.root, env: { ...process.env, PORT: String(port), CERT: f.certFile, KEY: f.keyFile }, stdio: ['ignore', 'ignore', 'inherit'],
  });
  await waitListening(port, child, name);
  return { name, pid: child.pid!, port, stop: stopper(child) };
}

export const startBareTls = (f: ServerFiles) => nodeServer('bare node:tls', BARE_TLS, f);
export const startBareAedes = (f: ServerFiles) => nodeServer('bare aedes', BARE_AEDES, f);

export async function startMosquittoServer(f: ServerFiles): Promise<BenchServer> {
  const port = await freePort();
  const conf = join(f.dir, 'mosquitto.conf');
  const root = process.getuid?.() === 0;
  await writeFile(conf, [
    ...(root ? ['user root'] : []),
    'per_listener_settings false', 'allow_anonymous true', 'persistence false', 'log_dest none', 'max_connections -1',
    `listener ${port} 127.0.0.1`, `certfile ${f.certFile}`, `keyfile ${f.keyFile}`, 'tls_version tlsv1.2', '',
  ].join('\n'));
  const child = spawn('/usr/sbin/mosquitto', ['-c', conf], { stdio: 'ignore' });
  await waitListening(port, child, 'mosquitto');
  return { name: 'mosquitto', pid: child.pid!, port, stop: stopper(child) };
}

export async function startGatewayServer(f: ServerFiles, env: Record<string, string> = {}): Promise<BenchServer> {
  const gw = await GatewayProcess.start({
    root: f.root, dataDir: join(f.dir, 'gateway'), certFile: f.certFile, keyFile: f.keyFile, logFile: join(f.dir, 'gateway.log'),
    env: { PINGW_LIVE_CHECK_TIMEOUT_MS: '1000', ...env },
  });
  return { name: 'gateway', pid: gw.pid, port: gw.mqttsPort, gateway: gw, stop: () => gw.stop() };
}
