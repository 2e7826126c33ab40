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
} from './repositories';
import type { BackendLeaseRepo } from './backend-lease-repo';
import type { WebhookRepo } from './webhook-repo';
import type { WebhookOutboxRepo } from './webhook-outbox-repo';
import type { FindingRepo } from './finding-repo';
import type { CtLogStateRepo } from './ct-log-state-repo';
import type { Fence, LeaderLock, LeaderLockOptions } from './leader-lock';
import type { ReplicaChannel } from './replica-channel';
import type { Logger } from '../logger';

/** The repositories a unit of work sees (all bound to one transaction). */
export interface RegistryTx {
  devices: DeviceRepo;
  pinsets: PinSetRepo;
  keysets: KeysetRepo;
  tokens: TokenRepo;
  audit: AuditRepo;
  coverage: CoverageRepo;
  telemetry: TelemetryRepo;
  rollouts: RolloutRepo;
  rotations: RotationRepo;
  /** Pin lifecycle records (issue 16). */
  killSwitches: KillSwitchRepo;
  rotationPlans: RotationPlanRepo;
}

/**
 * The registry: repositories on the primary, `reads` for the lists and series that tolerate a little lag (a
 * streaming replica when PINGW_DATABASE_READ_URL is set, else the primary; docs/postgres.md lists which reads go
 * there — never the rotation gate), and one unit of work.
 */
export interface Registry extends RegistryTx {
  readonly dialect: 'sqlite' | 'postgres';
  /** Where the data is, for people (a file path, or the URL without its password). */
  readonly location: string;
  ingest: IngestRepo;
  /** Webhook registrations and dead letters (never part of a unit of work). */
  webhooks: WebhookRepo;
  /** Webhook deliveries not yet delivered, claimed with a lease by every replica's worker (never part of a unit of work). */
  webhookOutbox: WebhookOutboxRepo;
  /** Drift/CT watch findings, shared by every replica (never part of a unit of work: each run is its own transaction). */
  findings: FindingRepo;
  /** The CT watch's progress per log (never part of a unit of work). */
  ctLogs: CtLogStateRepo;
  /** Leases on the external broker's backend client ids (never part of a unit of work: each call is atomic). */
  backendLeases: BackendLeaseRepo;
  /** Reads that may come from a replica (lists, history, telemetry, audit pages). */
  reads: Pick<RegistryTx, 'devices' | 'pinsets' | 'audit' | 'telemetry' | 'rollouts' | 'rotations'>;
  /**
   * Runs `fn` in one transaction: everything it writes through `tx` commits together or not at all (it rethrows
   * fn's error after the rollback). Writes through the registry's own repositories while `fn` runs are not part
   * of it. On SQLite transactions (and the other statements) are serialised; on PostgreSQL each runs on its own
   * pooled connection at READ COMMITTED, and the rows it reconciles are locked (SELECT … FOR UPDATE).
   */
  transaction<T>(fn: (tx: RegistryTx) => Promise<T>, fence?: Fence): Promise<T>;
  /**
   * Leader election's lock for `role` (docs/scale.md "Replicas"). A transaction given a `fence` first checks, inside
   * itself, that the role's epoch is still `fence.epoch`, and rejects with DomainError E_NOT_LEADER (writing
   * nothing) when another process acquired the role since.
   */
  leaderLock(role: string, options: LeaderLockOptions): LeaderLock;
  /** The channel between the processes sharing this database (PostgreSQL LISTEN/NOTIFY); null on SQLite (one process). */
  openReplicaChannel(logger: Logger): Promise<ReplicaChannel | null>;
  /** Called (on a later microtask) with each fleet whose coverage counters this process changed. */
  onCoverageChange: ((fleet: string) => void) | null;
  close(): Promise<void>;
}
