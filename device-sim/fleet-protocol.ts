import type { ConnState, UpdateStateKind } from './device-state';
import type { DeviceIdentity } from './device-types';
import type { FaultConfig } from './faults';

/** Messages between the fleet runner (parent) and its worker processes (node:child_process IPC). */
export interface WorkerConfig {
  readonly workerIndex: number;
  readonly identities: readonly DeviceIdentity[];
  readonly broker: { readonly hostname: string; readonly address: string; readonly port: number };
  readonly caPem?: string;
  /** Factory keyset: version + hex public keys. */
  readonly keyset: { readonly version: number; readonly publicKeys: readonly string[] };
  /** Factory pin set envelope, base64. */
  readonly factoryEnvelope?: string;
  readonly hostMap: ReadonlyArray<readonly [string, string, number]>;
  readonly dataDir: string;
  readonly faults: FaultConfig;
  /** Connects started per second by this worker (stagger). */
  readonly connectRate: number;
  readonly progressEveryMs: number;
  readonly fsync: boolean;
  readonly keepaliveSec: number;
  readonly reconnectMinMs: number;
  readonly reconnectMaxMs: number;
}

export interface WorkerCounters {
  /** Devices that sent at least one "applied"/"verified"/"rejected" ack for some set (per device, not per attempt). */
  applied: number;
  verified: number;
  rejected: number;
  rejectedCodes: Record<string, number>;
  refusedConnections: number;
  /** Why devices refused the broker (the pin check's reason, first 60 characters) → count. */
  refusedReasons: Record<string, number>;
  crashes: number;
  corruptedBoots: number;
  reports: Record<string, number>;
  keysetsAccepted: number;
  everOnline: number;
  /** Connection losses by reason (first 60 characters of the error). */
  disconnects: Record<string, number>;
}

export interface WorkerProgress {
  readonly type: 'progress';
  readonly workerIndex: number;
  readonly devices: number;
  readonly conn: Record<ConnState, number>;
  readonly update: Record<UpdateStateKind, number>;
  readonly counters: WorkerCounters;
  readonly rssBytes: number;
  readonly baselineRssBytes: number;
  /** ms since the epoch: first device online, and the moment the last device first came online. */
  readonly firstOnlineAt?: number;
  readonly lastFirstOnlineAt?: number;
  readonly startedAt: number;
  readonly final: boolean;
  /** Ids of the devices whose last connection attempt they refused (pin mismatch), at most MAX_LISTED_IDS. */
  readonly refusedIds: readonly string[];
}

/** Per worker and progress message: lists of device ids are capped (the counts are complete). */
export const MAX_LISTED_IDS = 1000;

export type ParentMessage = { readonly type: 'start'; readonly config: WorkerConfig } | { readonly type: 'stop' };
/**
 * Acks whose PUBACK the device received since the last such message, as `deviceId|seq|status`, once per PUBACK:
 * the devices' own record, which the drill compares with the registry (exactly once, docs/drill.md).
 */
export interface WorkerAcked {
  readonly type: 'acked';
  readonly keys: readonly string[];
}

export type WorkerMessage = WorkerProgress | WorkerAcked | { readonly type: 'error'; readonly message: string };
