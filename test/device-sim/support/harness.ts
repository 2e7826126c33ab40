import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Clock } from '../../../device-sim/clock';
import { DeviceStorage } from '../../../device-sim/device-storage';
import type { DeviceFaults } from '../../../device-sim/faults';
import { SimulatedDevice, type DeviceEvent } from '../../../device-sim/simulated-device';
import { BROKER_HOST, DEVICE_CLASS, FLEET } from './fixtures';
import type { TrustedKeyset } from '../../../shared/index';

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `${prefix}-`));
}

export interface Harnessed {
  readonly device: SimulatedDevice;
  readonly storage: DeviceStorage;
  readonly events: DeviceEvent[];
}

export interface DeviceSetup {
  readonly id: string;
  readonly credential: string;
  readonly dataDir: string;
  readonly port: number;
  readonly keyset: TrustedKeyset;
  readonly factoryEnvelope?: Uint8Array;
  readonly ca?: string;
  readonly clock?: Clock;
  readonly faults?: DeviceFaults;
}

/** A simulated device against the test broker, recording every event it emits. */
export function harness(s: DeviceSetup): Harnessed {
  const storage = new DeviceStorage(s.dataDir, s.id, {
    keyset: s.keyset,
    ...(s.factoryEnvelope !== undefined ? { envelope: s.factoryEnvelope } : {}),
  });
  const events: DeviceEvent[] = [];
  const device = new SimulatedDevice({
    identity: { deviceId: s.id, credential: s.credential, fleet: FLEET, deviceClass: DEVICE_CLASS },
    broker: { hostname: BROKER_HOST, address: '127.0.0.1', port: s.port, ...(s.ca !== undefined ? { ca: s.ca } : {}) },
    storage,
    reconnectMinMs: 50,
    reconnectMaxMs: 300,
    ...(s.clock !== undefined ? { clock: s.clock } : {}),
    ...(s.faults !== undefined ? { faults: s.faults } : {}),
    onEvent: (e) => events.push(e),
  });
  return { device, storage, events };
}
