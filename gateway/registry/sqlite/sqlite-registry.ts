import type { Clock } from '../../clock';
import type { Registry, RegistryTx } from '../registry';
import type {
  AuditRepo,
  CoverageRepo,
  DeviceRepo,
  IngestRepo,
  KeysetRepo,
  KillSwitchRepo,
  PinSetRepo,
  RolloutRepo,
  RotationPlanRepo,
  RotationRepo,
  TelemetryRepo,
  TokenRepo,
} from '../repositories';
import { SyncPinSetViews } from '../pinset-views';
import { AuditLog } from './audit-log';
import { CoverageStore } from './coverage-store';
import { DeviceStore } from './device-store';
import { SqliteIngest } from './ingest-batch';
import { KeysetStore } from './keyset-store';
import { KillSwitchStore } from './kill-switch-store';
import { openRegistryDb } from './open';
import { PinSetStore } from './pinset-store';
import { RolloutStore } from './rollout-store';
import { RotationPlanStore } from './rotation-plan-store';
import { RotationStore } from './rotation-store';
import { asyncFacade, direct, SqliteGate } from './sqlite-gate';
import { TelemetryStore } from './telemetry-store';
import { TokenStore } from './token-store';
import type { BackendLeaseRepo } from '../backend-lease-repo';
import type { WebhookRepo } from '../webhook-repo';
import { BackendLeaseStore } from './backend-lease-store';
import { WebhookStore } from './webhook-store';
import type { FindingRepo } from '../finding-repo';
import type { WebhookOutboxRepo } from '../webhook-outbox-repo';
import { FindingStore } from './finding-store';
import type { CtLogStateRepo } from '../ct-log-state-repo';
import { CtLogStateStore } from './ct-log-state-store';
import { WebhookOutboxStore } from './webhook-outbox-store';
import { checkFenceSqlite, SqliteLeaderLock } from './sqlite-leader';
import { WalCheckpointer } from './wal-checkpointer';

/**
 * The embedded default: one SQLite file (WAL) through better-sqlite3, whose statements are synchronous and
 * prepared once. The contract's promises wrap them; SqliteGate keeps a transaction of the contract (which spans
 * awaits) apart from every other statement on the one connection.
 */
export function openSqliteRegistry(file: string, clock: Clock): Registry {
  const db = openRegistryDb(file);
  const gate = new SqliteGate(db.$client);
  const checkpointer = new WalCheckpointer(db.$client, file);
  const pinsetStore = new PinSetStore(db);
  const views = new SyncPinSetViews((sha) => pinsetStore.getBySha256(sha));
  const coverage = new CoverageStore(db, (sha) => views.bySha256(sha)?.view ?? null);
  const telemetry = new TelemetryStore(db);
  const stores = {
    devices: new DeviceStore(db),
    pinsets: pinsetStore,
    keysets: new KeysetStore(db),
    tokens: new TokenStore(db),
    audit: new AuditLog(db, clock),
    coverage,
    telemetry,
    rollouts: new RolloutStore(db),
    rotations: new RotationStore(db),
    killSwitches: new KillSwitchStore(db),
    rotationPlans: new RotationPlanStore(db),
  };
  const ingest = new SqliteIngest(db, {
    counters: true,
    viewOf: (sha) => views.bySha256(sha)?.view ?? null,
    changed: (fleet) => registry.onCoverageChange?.(fleet),
  });
  stores.devices.reconcile = (id) => coverage.reconcile(id);

  // the typed faces: a mismatch between a store and the contract fails the type check here
  const face = (run: <R>(fn: () => R) => Promise<R>): RegistryTx => ({
    devices: asyncFacade(stores.devices, run) satisfies DeviceRepo,
    pinsets: asyncFacade(stores.pinsets, run) satisfies PinSetRepo,
    keysets: asyncFacade(stores.keysets, run) satisfies KeysetRepo,
    tokens: asyncFacade(stores.tokens, run) satisfies TokenRepo,
    audit: asyncFacade(stores.audit, run) satisfies AuditRepo,
    coverage: asyncFacade(stores.coverage, run) satisfies CoverageRepo,
    telemetry: asyncFacade(stores.telemetry, run) satisfies TelemetryRepo,
    rollouts: asyncFacade(stores.rollouts, run) satisfies RolloutRepo,
    rotations: asyncFacade(stores.rotations, run) satisfies RotationRepo,
    killSwitches: asyncFacade(stores.killSwitches, run) satisfies KillSwitchRepo,
    rotationPlans: asyncFacade(stores.rotationPlans, run) satisfies RotationPlanRepo,
  });
  const run = <R>(fn: () => R): Promise<R> => gate.run(fn);
  const root = face(run);
  const inTx = face(direct);
  let closed = false;

  const registry: Registry = {
    dialect: 'sqlite',
    location: file,
    ...root,
    ingest: { writeBatch: (batch) => gate.run(() => ingest.writeBatch(batch)) } satisfies IngestRepo,
    webhooks: asyncFacade(new WebhookStore(db), run) satisfies WebhookRepo,
    backendLeases: asyncFacade(new BackendLeaseStore(db), run) satisfies BackendLeaseRepo,
    webhookOutbox: asyncFacade(new WebhookOutboxStore(db), run) satisfies WebhookOutboxRepo,
    findings: asyncFacade(new FindingStore(db), run) satisfies FindingRepo,
    ctLogs: asyncFacade(new CtLogStateStore(db), run) satisfies CtLogStateRepo,
    // one file: there is no replica, lists read the same connection
    reads: root,
    transaction: (fn, fence) =>
      gate.transaction(() => {
        if (fence !== undefined) checkFenceSqlite(db.$client, fence);
        return fn(inTx);
      }),
    openReplicaChannel: async () => null, // one process per file: nobody to tell
    leaderLock: (role, options) => new SqliteLeaderLock(db.$client, run, file, role, options),
    onCoverageChange: null,
    close: async () => {
      if (closed) return;
      closed = true;
      await checkpointer.stop();
      await gate.run(() => db.$client.close());
    },
  };
  coverage.onChange = (fleet) => registry.onCoverageChange?.(fleet);
  return registry;
}
