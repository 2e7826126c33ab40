/**
 * A real PostgreSQL 15 (Debian `postgresql-15`) for tests: a fresh cluster in a temporary directory, on a free
 * loopback port, optionally with a streaming replica beside it (`pg_basebackup -R -X stream`). The server refuses
 * to run as root (LIBRARY-NOTES "Scale-out parts"), so when the tests run as root every server command runs as
 * the `postgres` user, which must be able to enter the temporary directory. Stopped by pid (`pg_ctl stop`, then
 * the postmaster pid from postmaster.pid if it is still there): never by name.
 *
 * One cluster per test file (start it in beforeAll); each test takes its own database with `createDatabase()`.
 */
import { execFile, type ExecFileOptions } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { pidAlive as alive } from './child-process';

const run = promisify(execFile);
const BIN = process.env['PG_BIN'] ?? '/usr/lib/postgresql/15/bin';
const asRoot = process.getuid?.() === 0;

export function postgresAvailable(): boolean {
  return existsSync(join(BIN, 'initdb')) && existsSync(join(BIN, 'pg_ctl'));
}

async function pg(cmd: string, args: string[], opts: ExecFileOptions = {}): Promise<string> {
  const [file, argv] = asRoot ? ['runuser', ['-u', 'postgres', '--', join(BIN, cmd), ...args]] : [join(BIN, cmd), args];
  try {
    const { stdout } = await run(file, argv, { ...opts, encoding: 'utf8' });
    return stdout;
  } catch (err) {
    const e = err as Error & { stderr?: string; stdout?: string };
    throw new Error(`${cmd} ${args.join(' ')} failed: ${e.message}\n${e.stdout ?? ''}${e.stderr ?? ''}`);
  }
}

async function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.once('error', fail);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => ok(port));
    });
  });
}

export interface PgServer {
  port: number;
  /** The temporary directory: primary/data and replica/data (postmaster.pid) are under it. */
  dir: string;
  /** postgres://postgres@127.0.0.1:port/<db> */
  url(database?: string): string;
  /** A read-only streaming replica of this server (hot standby), when started with `replica: true`. */
  replica: { port: number; url(database?: string): string; waitForReplay(): Promise<void> } | null;
  /** Creates an empty database (on the primary; it streams to the replica) and returns its name. */
  createDatabase(): Promise<string>;
  /** Runs one SQL statement with psql (tests that look under the contract: triggers, counters). */
  psql(database: string, sql: string, port?: number): Promise<string>;
  /** VACUUM ANALYZE of a database (what autovacuum does within a minute; benchmarks measure the steady state). */
  vacuumAnalyze(database: string): Promise<void>;
  stop(): Promise<void>;
}

interface Node {
  dir: string;
  port: number;
}

async function startNode(node: Node, settings: Record<string, string> = {}): Promise<void> {
  // no unix socket (the temp dir is private); loopback only; small memory so several clusters fit a CI box
  const base = { listen_addresses: '127.0.0.1', port: String(node.port), unix_socket_directories: "''", fsync: 'off', shared_buffers: '32MB', max_connections: '60' };
  const opts = Object.entries({ ...base, ...settings }).map(([k, v]) => `-c ${k}=${v}`).join(' ');
  await pg('pg_ctl', ['-w', '-t', '60', '-D', join(node.dir, 'data'), '-l', join(node.dir, 'server.log'), '-o', opts, 'start']);
}


async function stopNode(node: Node): Promise<void> {
  const data = join(node.dir, 'data');
  const pidFile = join(data, 'postmaster.pid');
  if (!existsSync(pidFile)) return;
  const pid = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
  const valid = Number.isInteger(pid) && pid > 0;
  try {
    await pg('pg_ctl', ['-w', '-t', '30', '-D', data, '-m', 'fast', 'stop']);
  } catch {
    // fall back to the postmaster's pid (SIGQUIT = immediate shutdown)
    if (valid && alive(pid)) process.kill(pid, 'SIGQUIT');
  }
  // pg_ctl returns once postmaster.pid is gone, a moment before the process itself has exited: "stopped" means
  // the pid is gone (callers check that), so wait for it, and SIGKILL a postmaster that outlives 10 s
  for (let i = 0; valid && alive(pid) && i < 300; i++) {
    if (i === 200) process.kill(pid, 'SIGKILL');
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Starts a primary (and a streaming replica when asked). Throws with the server log when it cannot start. */
export async function startPostgres(opts: { replica?: boolean; /** server settings (-c name=value), e.g. a bench's shared_buffers */ settings?: Record<string, string> } = {}): Promise<PgServer> {
  const root = mkdtempSync(join(tmpdir(), 'pingw-pg-'));
  chmodSync(root, 0o777); // the postgres user creates its data directories in here (mkdtemp makes it 0700)
  const primary: Node = { dir: join(root, 'primary'), port: await freePort() };
  let replicaNode: Node | null = null;
  const nodes: Node[] = [];
  // pg_ctl starts a daemon, not a child of this process: if the test process ends without its afterAll (a crash, a
  // worker killed at a timeout), stop the servers by their postmaster pid on the way out (SIGQUIT = immediate stop)
  const orphanGuard = () => {
    for (const n of nodes) {
      const pidFile = join(n.dir, 'data', 'postmaster.pid');
      const pid = existsSync(pidFile) ? Number(readFileSync(pidFile, 'utf8').split('\n')[0]) : NaN;
      if (Number.isInteger(pid) && pid > 0) {
        try {
          process.kill(pid, 'SIGQUIT');
        } catch {
          // already gone
        }
      }
    }
  };
  process.once('exit', orphanGuard);
  const cleanup = async () => {
    process.removeListener('exit', orphanGuard);
    for (const n of [...nodes].reverse()) await stopNode(n);
    rmSync(root, { recursive: true, force: true });
  };
  try {
    await pg('initdb', ['--no-sync', '-A', 'trust', '-U', 'postgres', '-E', 'UTF8', '--locale', 'C', '-D', join(primary.dir, 'data')]);
    // the replica connects with the replication protocol over loopback
    const hba = join(primary.dir, 'data', 'pg_hba.conf');
    writeFileSync(hba, `${readFileSync(hba, 'utf8')}\nhost replication postgres 127.0.0.1/32 trust\n`);
    nodes.push(primary);
    await startNode(primary, opts.settings);
    if (opts.replica === true) {
      replicaNode = { dir: join(root, 'replica'), port: await freePort() };
      await pg('pg_basebackup', ['-h', '127.0.0.1', '-p', String(primary.port), '-U', 'postgres', '-D', join(replicaNode.dir, 'data'), '-R', '-X', 'stream']);
      nodes.push(replicaNode);
      await startNode(replicaNode, opts.settings);
    }
  } catch (err) {
    const logs = nodes.map((n) => (existsSync(join(n.dir, 'server.log')) ? readFileSync(join(n.dir, 'server.log'), 'utf8') : '')).join('\n');
    await cleanup();
    throw new Error(`${(err as Error).message}\n${logs}`);
  }
  const url = (port: number) => (database = 'postgres') => `postgres://postgres@127.0.0.1:${port}/${database}`;
  const psql = (database: string, sql: string, port = primary.port) =>
    pg('psql', ['-h', '127.0.0.1', '-p', String(port), '-U', 'postgres', '-d', database, '-v', 'ON_ERROR_STOP=1', '-At', '-c', sql]);
  let n = 0;
  const server: PgServer = {
    port: primary.port,
    dir: root,
    url: url(primary.port),
    replica:
      replicaNode === null
        ? null
        : {
            port: replicaNode.port,
            url: url(replicaNode.port),
            // waits until the replica has replayed everything the primary has written so far
            waitForReplay: async () => {
              const lsn = (await psql('postgres', 'select pg_current_wal_lsn()')).trim();
              const port = (replicaNode as Node).port;
              for (;;) {
                const ok = (await psql('postgres', `select pg_last_wal_replay_lsn() >= '${lsn}'::pg_lsn`, port)).trim();
                if (ok === 't') return;
                await new Promise((r) => setTimeout(r, 20));
              }
            },
          },
    createDatabase: async () => {
      const name = `t${process.pid}_${++n}`;
      await psql('postgres', `create database ${name}`);
      return name;
    },
    psql,
    vacuumAnalyze: async (database) => {
      await psql(database, 'vacuum analyze');
    },
    stop: cleanup,
  };
  return server;
}
