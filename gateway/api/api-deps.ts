import type { Clock } from '../clock';
import type { RegistryDb } from '../db/open';
import type { GatewayEvents } from '../protocol/gateway-events';
import type { CoverageStore } from '../registry/coverage-store';
import type { PinsetViews } from '../registry/pinset-views';
import type { RolloutStore } from '../registry/rollout-store';
import type { RotationStore } from '../registry/rotation-store';
import type { TelemetryStore } from '../registry/telemetry-store';
import type { RolloutDriver } from '../rollouts/rollout-driver';
import type { RolloutDefaults } from '../rollouts/rollout-factory';
import type { EventHub } from './event-hub';
import type { Logger } from '../logger';
import type { KeysetRotation } from '../pinsets/keyset-rotation';
import type { PinsetPublisher } from '../pinsets/pinset-publisher';
import type { Delivery } from '../protocol/delivery';
import type { AuditLog } from '../registry/audit-log';
import type { DeviceStore } from '../registry/device-store';
import type { KeysetStore } from '../registry/keyset-store';
import type { PinsetStore } from '../registry/pinset-store';
import type { TokenStore } from '../registry/token-store';

/** What the HTTP API works with; start.ts wires the real ones, tests may wire their own. */
export interface ApiDeps {
  devices: DeviceStore;
  pinsets: PinsetStore;
  keysets: KeysetStore;
  tokens: TokenStore;
  audit: AuditLog;
  publisher: PinsetPublisher;
  rotation: KeysetRotation;
  delivery: Delivery;
  clock: Clock;
  logger: Logger;
  credentialScryptN: number;
  db: RegistryDb;
  events: GatewayEvents;
  hub: EventHub;
  coverage: CoverageStore;
  views: PinsetViews;
  telemetry: TelemetryStore;
  rotations: RotationStore;
  rollouts: RolloutStore;
  driver: RolloutDriver;
  rolloutDefaults: RolloutDefaults;
}
