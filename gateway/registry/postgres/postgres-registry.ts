import type pg from 'pg';
import type { Clock } from '../../clock';
import { PinSetViews } from '../pinset-views';
import type { Registry, RegistryTx } from '../registry';
import { PgBackendLeases } from './pg-backend-leases';
import { PgCoverage } from './pg-coverage';
import { PgDevices } from './pg-devices';
import { PgKillSwitches, PgRotationPlans } from './pg-lifecycle';
import { writeBatchPg } from './pg-ingest';
import { PgPinSets } from './pg-pinsets';
import { createPool, migratePostgres, redactUrl, type Queryable } from './pg-pool';
import { PgRollouts } from './pg-rollouts';
import { PgAudit, PgKeysets, PgRotations, PgTokens } from './pg-small-tables';
import { PgTelemetry } from './pg-telemetry';
import { PgWebhooks } from './pg-webhooks';
import { PgFindings } from './pg-findings';
import { PgCtLogStates } from './pg-ct-log-states';
import { PgWebhookOutbox } from './pg-webhook-outbox';
import { checkFencePg, PgLeaderLock } from './pg-leader';
import { PgReplicaChannel } from './pg-notify';
import type { Fence } from '../leader-lock';

export interface PostgresOptions {
  url: string;
  /** A streaming replica for the reads that tolerate lag; null = the primary. */
  readUrl: string | null;
  poolSize: number;
}

/**
 * The registry on PostgreSQL (PINGW_DATABASE_URL): a pg pool on the primary (and one on the replica), migrated at
 * start-up under an advisory lock. A unit of work checks out one connection: BEGIN … COMMIT at READ COMMITTED;
 * the rows it reconciles are locked with SELECT … FOR UPDATE, counters move by relative upserts, ids come from
 * identity columns and a counter row, so several gateway processes can share the database.
 */
export async function openPostgresRegistry(options: PostgresOptions, clock: Clock): Promise<Registry> {
  const primary = createPool(options.url, options.poolSize, 'pin-update-gateway');
  const replica = options.readUrl === null ? null : createPool(options.readUrl, options.poolSize, 'pin-update-gateway (reads)');
  try {
    await migratePostgres(primary);
    if (replica !== null) await replica.query('select 1'); // fail at start-up, not at the first list
  } catch (err) {
    await primary.end();
    await replica?.end();
    throw err;
  }

  let registry: Registry | null = null;
  const pending = new Set<string>();
  const changed = (fleet: string) => {
    if (pending.size === 0) {
      queueMicrotask(() => {
        const fleets = [...pending];
        pending.clear();
        for (const f of fleets) registry?.onCoverageChange?.(f);
      });
    }
    pending.add(fleet);
  };
  const pinsets = new PgPinSets(primary);
  const views = new PinSetViews((sha) => pinsets.getBySha256(sha));

  /** The repositories on one connection (the pool, or a transaction's client). */
  const repos = (db: Queryable, inTx: boolean): RegistryTx & { coverage: PgCoverage; devices: PgDevices } => {
    const coverage: PgCoverage = new PgCoverage(db, {
      views,
      changed,
      transaction: (fn) => (inTx ? null : transaction((tx) => fn(tx.coverage))),
    });
    return {
      // bulk enrolment commits with its counters: on this transaction's connection, else in a transaction of its own
      devices: new PgDevices(db, (fn) => (inTx ? fn(new PgDevices(db, () => null), coverage) : transaction((tx) => fn(tx.devices, tx.coverage)))),
      pinsets: new PgPinSets(db),
      keysets: new PgKeysets(db),
      tokens,
      audit: new PgAudit(db, clock),
      coverage,
      telemetry: new PgTelemetry(db),
      rollouts: new PgRollouts(db, (fn) => (inTx ? fn(rollouts(db)) : transaction((tx) => fn(rollouts(tx.db))))),
      rotations: new PgRotations(db),
      killSwitches: new PgKillSwitches(db),
      rotationPlans: new PgRotationPlans(db),
    };
  };
  const rollouts = (db: Queryable): PgRollouts => new PgRollouts(db, (fn) => fn(rollouts(db)));
  // one token cache per process, on the primary
  const tokens = new PgTokens(primary);

  // how long a fenced transaction may sit open without a statement before the server ends it (leaderLock's stallMs)
  let fenceStallMs = 5000;
  const transaction = async <T>(
    fn: (tx: RegistryTx & { coverage: PgCoverage; devices: PgDevices; db: pg.PoolClient }) => Promise<T>,
    fence?: Fence,
  ): Promise<T> => {
    const client = await primary.connect();
    // the server may end this session between statements (a fenced transaction of a process that was frozen past
    // idle_in_transaction_session_timeout): that arrives as an 'error' event, which must not crash the process
    let broken: Error | undefined;
    const onError = (err: Error) => (broken = err);
    client.on('error', onError);
    try {
      await client.query('begin');
      if (fence !== undefined) await checkFencePg(client, fence, fenceStallMs);
      const result = await fn({ ...repos(client, true), db: client });
      await client.query('commit');
      return result;
    } catch (err) {
      await client.query('rollback').catch((e: unknown) => (broken ??= e as Error));
      throw err;
    } finally {
      client.off('error', onError);
      client.release(broken); // a broken connection is discarded, not pooled
    }
  };

  const root = repos(primary, false);
  let closed = false;
  registry = {
    dialect: 'postgres',
    location: redactUrl(options.url),
    ...root,
    ingest: { writeBatch: (batch) => transaction((tx) => writeBatchPg(tx.db, tx.coverage, batch)) },
    webhooks: new PgWebhooks(primary),
    backendLeases: new PgBackendLeases(primary),
    webhookOutbox: new PgWebhookOutbox(primary),
    findings: new PgFindings(primary),
    ctLogs: new PgCtLogStates(primary),
    reads: replica === null ? root : repos(replica, false),
    transaction: (fn, fence) => transaction(fn, fence),
    openReplicaChannel: (logger) => PgReplicaChannel.open(options.url, primary, logger),
    leaderLock: (role, lockOptions) => {
      fenceStallMs = lockOptions.stallMs;
      return new PgLeaderLock(options.url, role, lockOptions);
    },
    onCoverageChange: null,
    close: async () => {
      if (closed) return;
      closed = true;
      await primary.end();
      await replica?.end();
    },
  };
  return registry;
}
