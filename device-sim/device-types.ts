import {
  fetchServerPins, type Ack, type DeviceState, type Hello, type Report,
} from '../shared/index';
import type { BrokerEndpoint } from './device-link';
import type { Clock } from './clock';
import type { UpdateState } from './device-state';
import type { DeviceStorage, StoredState } from './device-storage';
import type { DeviceFaults } from './faults';

/** The types a simulated device is configured with and the events it emits (see simulated-device.ts). */
export interface DeviceIdentity {
  readonly deviceId: string;
  readonly credential: string;
  readonly fleet: string;
  readonly deviceClass: string;
}

/** Where a named host is reached from the device (host → address mapping). */
export interface HostAddress {
  readonly address: string;
  readonly port: number;
}

export type DeviceEvent =
  | { readonly type: 'booted'; readonly firstBoot: boolean; readonly corrupted?: string; readonly removedTemp: boolean }
  | { readonly type: 'online' }
  | { readonly type: 'offline'; readonly error?: string }
  | { readonly type: 'refused'; readonly reason: string; readonly served: readonly Uint8Array[] }
  | { readonly type: 'state'; readonly state: UpdateState }
  | { readonly type: 'ack'; readonly ack: Ack }
  /** The broker's PUBACK for that ack arrived: from here on the ack is the broker's and must not be lost. */
  | { readonly type: 'acked'; readonly ack: Ack }
  | { readonly type: 'report'; readonly report: Report }
  | { readonly type: 'keyset'; readonly ok: boolean; readonly version?: number; readonly code?: string }
  | { readonly type: 'crash' };

export interface SimulatedDeviceOptions {
  readonly identity: DeviceIdentity;
  readonly broker: BrokerEndpoint;
  readonly storage: DeviceStorage;
  readonly clock?: Clock;
  /** Other hosts the device can reach, for the E_WOULD_BRICK live check and verification. */
  readonly hostMap?: ReadonlyMap<string, HostAddress>;
  readonly firmware?: string;
  readonly faults?: DeviceFaults;
  readonly keepaliveSec?: number;
  readonly reconnectMinMs?: number;
  readonly reconnectMaxMs?: number;
  readonly random?: () => number;
  /** TLS handshake to a host returning the served chain pins; default fetchServerPins. Rejects if unreachable. */
  readonly probe?: (name: string, at: HostAddress) => Promise<readonly Uint8Array[]>;
  readonly onEvent?: (e: DeviceEvent) => void;
}

export const defaultProbe = async (name: string, at: HostAddress): Promise<readonly Uint8Array[]> =>
  (await fetchServerPins(at.address, at.port, { servername: name, timeoutMs: 5_000 })).chain;

const ZERO_SHA = new Uint8Array(32);

/** SPEC §6 hello: what the device runs and holds; 32 zero bytes when nothing is installed. */
export function helloFor(id: DeviceIdentity, s: StoredState, firmware = 'device-sim/1'): Hello {
  return {
    firmware, deviceClass: id.deviceClass, fleet: id.fleet, installedSeq: s.seq,
    keysetVersion: s.keyset.version, installedSha256: s.sha256 ?? ZERO_SHA,
  };
}

/** The connection tuning options that were given (exactOptionalPropertyTypes: no undefined values). */
export function linkTuning(o: SimulatedDeviceOptions): { keepaliveSec?: number; reconnectMinMs?: number; reconnectMaxMs?: number; random?: () => number } {
  return {
    ...(o.keepaliveSec !== undefined ? { keepaliveSec: o.keepaliveSec } : {}),
    ...(o.reconnectMinMs !== undefined ? { reconnectMinMs: o.reconnectMinMs } : {}),
    ...(o.reconnectMaxMs !== undefined ? { reconnectMaxMs: o.reconnectMaxMs } : {}),
    ...(o.random !== undefined ? { random: o.random } : {}),
  };
}

/** What checkReceipt needs to know about the device (SPEC §4 checks after E_SCHEMA). */
export function receiptContext(id: DeviceIdentity, s: StoredState, servedPins: ReadonlyMap<string, readonly Uint8Array[]>): DeviceState {
  return {
    deviceId: id.deviceId, fleet: id.fleet, deviceClass: id.deviceClass, installedSeq: s.seq, keysetVersion: s.keyset.version,
    ...(s.sha256 !== undefined ? { installedSha256: s.sha256 } : {}),
    servedPins,
  };
}
