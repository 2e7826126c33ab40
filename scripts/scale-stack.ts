/**
 * The scale-out set-up on one machine (issue 13, docs/scale.md "Run it on one machine"): a real Mosquitto 2 from
 * deploy/mosquitto over TLS, a PostgreSQL 15 primary with a streaming read replica (`pg_basebackup -R -X stream`,
 * as the `postgres` user when run as root), and N gateway replicas (`node --import tsx gateway/main.ts`, each on
 * its own HTTP port) that are Mosquitto's MQTT 5 backend clients and share the PostgreSQL registry.
 *
 * Used by scripts/scale-local.ts (people) and bench/fleet-cases.ts (the fleet benchmark's case "gateway on
 * Mosquitto + replicas on PostgreSQL"). The broker and database come from test/support (the same code the tests
 * run, not a copy); every process is stopped by its pid.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { GatewayProcess } from '../device-sim/drill/gateway-process';
import { DRILL_TARGET_KIND, type DrillTargetFile } from '../device-sim/drill/target-file';
import { startMosquitto, type TestMosquitto } from '../test/support/mosquitto';
import { startPostgres, type PgServer } from '../test/support/postgres';

export interface ScaleStackOptions {
  /** Project root (where gateway/main.ts is). */
  readonly root: string;
  /** Gateway data dir (shared by the replicas: signer key, admin token, broker secret) and logs go under it. */
  readonly dir: string;
  readonly replicas: number;
  /** HTTP port of replica 0; replica i listens on httpPort + i. 0 = free ports. */
  readonly httpPort: number;
  /** Mosquitto's device and backend listener ports; absent = free ports. */
  readonly brokerPorts?: { readonly device?: number; readonly backend?: number };
  /**
   * The key pair Mosquitto serves (devices that pin it: the fleet bench); absent = a certificate of a test CA made
   * by openssl (SANs localhost, 127.0.0.1). `caFile`: what the gateway trusts for it.
   */
  readonly brokerTls?: { readonly certFile: string; readonly keyFile: string; readonly caFile: string };
  /** Extra PINGW_* settings for every replica. */
  readonly gatewayEnv?: Readonly<Record<string, string>>;
  readonly log?: (line: string) => void;
}

export interface ScaleStack {
  readonly mosquitto: TestMosquitto;
  readonly postgres: PgServer;
  readonly databaseUrl: string;
  readonly readUrl: string;
  /** Gateway replicas by index (a stopped or killed one stays in its slot until restarted). */
  readonly gateways: GatewayProcess[];
  /** The CA file devices and the gateway trust for the broker's certificate. */
  readonly brokerCaFile: string;
  /** Starts replica i again (after a kill): same data dir, same client ids, so it reclaims its broker sessions. */
  restart(i: number): Promise<GatewayProcess>;
  /** Pids of every process of the set-up (Mosquitto, PostgreSQL primary and replica postmasters, gateways). */
  pids(): Record<string, number>;
  /** The replica that leads now, from the replicas' own logs (the last "this replica leads" / "stepped down"); undefined if none says so. */
  leader(): number | undefined;
  /** What `npm run drill -- --target FILE` needs of this set-up (device-sim/drill/target-file.ts). */
  drillTarget(): DrillTargetFile;
  /** Stops every gateway (SIGTERM, SIGKILL after a grace), Mosquitto, then PostgreSQL, each by pid. */
  stop(): Promise<void>;
}

/**
 * Starts everything; on failure stops what was started and throws. Replica 0 starts first and alone: it migrates
 * the database and creates the keyset, signer key, admin token and broker secret in the shared data dir, which
 * the others then read (starting them together would race on the first keyset).
 */
export async function startScaleStack(o: ScaleStackOptions): Promise<ScaleStack> {
  const log = o.log ?? (() => {});
  const gatewayDir = join(o.dir, 'gateway');
  mkdirSync(gatewayDir, { recursive: true, mode: 0o700 });
  let mosquitto: TestMosquitto | undefined;
  let postgres: PgServer | undefined;
  const gateways: GatewayProcess[] = [];
  const stopAll = async () => {
    await Promise.all(gateways.map((g) => g.stop().catch((e: unknown) => log(`stopping gateway pid ${g.pid}: ${String(e)}`))));
    await mosquitto?.stop().catch((e: unknown) => log(`stopping mosquitto: ${String(e)}`));
    await postgres?.stop().catch((e: unknown) => log(`stopping postgresql: ${String(e)}`));
  };
  try {
    mosquitto = await startMosquitto({
      ...(o.brokerTls === undefined ? {} : { tls: { certFile: o.brokerTls.certFile, keyFile: o.brokerTls.keyFile } }),
      ...(o.brokerPorts === undefined ? {} : { ports: o.brokerPorts }),
    });
    log(`mosquitto pid ${mosquitto.pid}: devices mqtts://localhost:${mosquitto.devicePort}, backend ${mosquitto.backendUrl} (config ${mosquitto.dir})`);
    postgres = await startPostgres({ replica: true });
    await postgres.psql('postgres', 'create database pingw');
    const replica = postgres.replica;
    if (replica === null) throw new Error('the PostgreSQL replica did not start');
    const databaseUrl = postgres.url('pingw');
    const readUrl = replica.url('pingw');
    log(`postgresql primary 127.0.0.1:${postgres.port}, streaming replica 127.0.0.1:${replica.port} (database pingw)`);
    const m = mosquitto;
    const brokerCaFile = o.brokerTls?.caFile ?? m.caFile;
    const start = (i: number) => GatewayProcess.start({
      root: o.root, dataDir: gatewayDir,
      // the embedded broker's files: unused with PINGW_BROKER_URL, but GatewayProcess sets them
      certFile: join(m.dir, 'broker-cert.pem'), keyFile: join(m.dir, 'broker-key.pem'),
      logFile: join(o.dir, `gateway-${i}.log`),
      env: {
        PINGW_HTTP_PORT: String(o.httpPort === 0 ? 0 : o.httpPort + i),
        PINGW_DATABASE_URL: databaseUrl,
        PINGW_DATABASE_READ_URL: readUrl,
        PINGW_BROKER_URL: m.backendUrl,
        PINGW_BROKER_CA_FILE: brokerCaFile,
        PINGW_BROKER_PASSWORD_FILE: m.passwordFile,
        PINGW_BROKER_PID_FILE: m.pidFile,
        // One pool of backend client ids for all replicas, leased through the registry (docs/scale.md "Backend
        // connections"): a survivor takes over a dead replica's ids and the messages waiting in their sessions.
        ...o.gatewayEnv,
      },
    });
    for (let i = 0; i < o.replicas; i++) {
      const g = await start(i);
      gateways.push(g);
      log(`gateway replica ${i} pid ${g.pid}: ${g.apiUrl} (log ${join(o.dir, `gateway-${i}.log`)})`);
    }
    const pg = postgres;
    // postmaster.pid's first line is the postmaster's pid (pg_ctl starts a daemon, not a child of ours)
    const pgPid = (node: string) => {
      const file = join(pg.dir, node, 'data', 'postmaster.pid');
      return existsSync(file) ? Number(readFileSync(file, 'utf8').split('\n')[0]) : NaN;
    };
    return {
      mosquitto: m, postgres: pg, databaseUrl, readUrl, gateways, brokerCaFile,
      async restart(i) {
        const old = gateways[i];
        if (old?.running === true) throw new Error(`gateway replica ${i} (pid ${old.pid}) is still running`);
        const g = await start(i);
        gateways[i] = g;
        return g;
      },
      pids() {
        const r: Record<string, number> = { mosquitto: m.pid };
        r['postgres-primary'] = pgPid('primary');
        r['postgres-replica'] = pgPid('replica');
        gateways.forEach((g, i) => g.running && (r[`gateway-${i}`] = g.pid));
        return r;
      },
      leader() {
        // the whole log file (a replica's in-memory output keeps only its last 200,000 characters)
        const i = gateways.findIndex((g, k) => {
          const file = join(o.dir, `gateway-${k}.log`);
          const out = g.running && existsSync(file) ? readFileSync(file, 'utf8') : '';
          return out.lastIndexOf('this replica leads') > out.lastIndexOf('this replica stepped down');
        });
        return i < 0 ? undefined : i;
      },
      drillTarget() {
        return {
          kind: DRILL_TARGET_KIND, version: 1,
          // every replica, killed ones too: restarted, they come back on the same port (the drill skips one that refuses)
          apiUrls: gateways.map((g) => g.apiUrl),
          adminTokenFile: join(gatewayDir, 'admin.token'),
          broker: {
            host: '127.0.0.1', devicePort: m.devicePort, caFile: brokerCaFile,
            deviceCertFile: m.deviceCertFile, deviceKeyFile: m.deviceKeyFile, pid: m.pid,
          },
          replicas: gateways.map((g, index) => ({ index, apiUrl: g.apiUrl, pid: g.running ? g.pid : null })),
        };
      },
      stop: stopAll,
    };
  } catch (e) {
    await stopAll();
    throw e;
  }
}

