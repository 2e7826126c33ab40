import type { AuditRepo, CoverageRepo, DeviceRepo, KeysetRepo, PinSetRepo, RolloutRepo, RotationRepo, TelemetryRepo, TokenRepo } from '../registry/repositories';
import type { Clock } from '../clock';
import type { Registry } from '../registry/registry';
import type { EventBus } from '../events/event-bus';
import type { PinSetViews } from '../registry/pinset-views';
import type { RolloutDriver } from '../rollout-driver/rollout-driver';
import type { RolloutDefaults } from '../rollout-driver/rollout-factory';
import type { BrowserEventStream } from '../events/browser-event-stream';
import type { DeviceAdmission } from '../broker/device-admission';
import type { Logger } from '../logger';
import type { KeysetRotation } from '../keysets/keyset-rotation';
import type { PinSetPublisher } from '../pinsets/pinset-publisher';
import type { Delivery } from '../protocol/delivery';
import type { DeviceCredentials } from '../transport/device-transport';
import type { KillSwitch } from '../kill-switch/kill-switch';
import type { DriftWatch } from '../drift-watch/drift-watch';
import type { FindingRegister } from '../findings/finding-register';
import type { CtWatch } from '../ct-watch/ct-watch';
import type { GuidedRotation } from '../guided-rotation/guided-rotation';
import type { Admission } from '../admission/admission';
import type { GatewayMetrics } from '../metrics/gateway-metrics';
import type { DeviceDecommission } from '../decommission/device-decommission';
import type { WebhookDispatcher } from '../webhooks/webhook-dispatcher';
import type { WebhookRepo } from '../registry/webhook-repo';
import type { RotationWatcher } from '../webhooks/webhook-events';
import type { SecurityLedger } from '../security/security-ledger';
import type { SecurityMetrics } from '../metrics/security-metrics';

/** What the HTTP API works with; start.ts wires the real ones, tests may wire their own. */
export interface ApiDeps {
  devices: DeviceRepo;
  pinsets: PinSetRepo;
  keysets: KeysetRepo;
  tokens: TokenRepo;
  audit: AuditRepo;
  publisher: PinSetPublisher;
  rotation: KeysetRotation;
  delivery: Delivery;
  clock: Clock;
  logger: Logger;
  /** Device credentials as the device transport's broker checks them (hash at enrolment, provision, revoke). */
  credentials: DeviceCredentials;
  /** The unit of work (enrolment + its coverage counters) and the reads that may go to a replica. */
  registry: Registry;
  events: EventBus;
  hub: BrowserEventStream;
  coverage: CoverageRepo;
  views: PinSetViews;
  telemetry: TelemetryRepo;
  rotations: RotationRepo;
  rollouts: RolloutRepo;
  driver: RolloutDriver;
  rolloutDefaults: RolloutDefaults;
  /** Pin lifecycle safety (issue 16). */
  killSwitch: KillSwitch;
  findings: FindingRegister;
  drift: DriftWatch;
  ct: CtWatch;
  plans: GuidedRotation;
  /** May a host switch to a key now (pipelines, Kubernetes AdmissionReview; issue 16). */
  keyAdmission: Admission;
  decommission: DeviceDecommission;
  webhooks: { store: WebhookRepo; dispatcher: WebhookDispatcher; rotations: RotationWatcher };
  /** When given, every API request is timed into its latency histogram. */
  metrics?: GatewayMetrics;
  /** Log-in failures, throttling and takeovers per device and in total (issue 17); absent in API-only tests. */
  admission?: Pick<DeviceAdmission, 'deviceState' | 'stats'>;
  /** Telemetry reports accepted, deduplicated and over the per-device cap, since start (issue 17). */
  telemetryLimits?: () => Record<string, number>;
  /** One device's telemetry reports dropped since start (duplicates, over the cap; the device page). */
  reportsDroppedFor?: (deviceId: string) => { duplicate: number; overLimit: number };
  /** The security counters per device and fleet (GET /api/security) and on /metrics; absent in API-only tests. */
  security?: { ledger: SecurityLedger; metrics: SecurityMetrics };
}
