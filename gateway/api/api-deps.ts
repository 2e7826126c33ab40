import type { Clock } from '../clock';
import type { RegistryDb } from '../db/open';
import type { EventBus } from '../events/event-bus';
import type { CoverageStore } from '../registry/coverage-store';
import type { PinSetViews } from '../registry/pinset-views';
import type { RolloutStore } from '../registry/rollout-store';
import type { RotationStore } from '../registry/rotation-store';
import type { TelemetryStore } from '../registry/telemetry-store';
import type { RolloutDriver } from '../rollout-driver/rollout-driver';
import type { RolloutDefaults } from '../rollout-driver/rollout-factory';
import type { BrowserEventStream } from '../events/browser-event-stream';
import type { DeviceAdmission } from '../broker/device-admission';
import type { Logger } from '../logger';
import type { KeysetRotation } from '../keysets/keyset-rotation';
import type { PinSetPublisher } from '../pinsets/pinset-publisher';
import type { Delivery } from '../protocol/delivery';
import type { AuditLog } from '../registry/audit-log';
import type { DeviceStore } from '../registry/device-store';
import type { KeysetStore } from '../registry/keyset-store';
import type { PinSetStore } from '../registry/pinset-store';
import type { TokenStore } from '../registry/token-store';

/** What the HTTP API works with; start.ts wires the real ones, tests may wire their own. */
export interface ApiDeps {
  devices: DeviceStore;
  pinsets: PinSetStore;
  keysets: KeysetStore;
  tokens: TokenStore;
  audit: AuditLog;
  publisher: PinSetPublisher;
  rotation: KeysetRotation;
  delivery: Delivery;
  clock: Clock;
  logger: Logger;
  credentialScryptN: number;
  db: RegistryDb;
  events: EventBus;
  hub: BrowserEventStream;
  coverage: CoverageStore;
  views: PinSetViews;
  telemetry: TelemetryStore;
  rotations: RotationStore;
  rollouts: RolloutStore;
  driver: RolloutDriver;
  rolloutDefaults: RolloutDefaults;
  /** Log-in failures, throttling and takeovers per device and in total (issue 17); absent in API-only tests. */
  admission?: Pick<DeviceAdmission, 'deviceState' | 'stats'>;
  /** Telemetry reports accepted, deduplicated and over the per-device cap, since start (issue 17). */
  telemetryLimits?: () => Record<string, number>;
}
