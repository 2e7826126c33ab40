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
  credentialScryptN: number;
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
  /** Log-in failures, throttling and takeovers per device and in total (issue 17); absent in API-only tests. */
  admission?: Pick<DeviceAdmission, 'deviceState' | 'stats'>;
  /** Telemetry reports accepted, deduplicated and over the per-device cap, since start (issue 17). */
  telemetryLimits?: () => Record<string, number>;
}
