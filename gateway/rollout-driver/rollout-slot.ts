import type { RolloutRepo, RolloutRow } from '../registry/repositories';
import type { PinSetRow } from '../registry/rows';
import { isActiveExecution, type ExecutionRecord, type RolloutSnapshot } from '../rollout-engine/index';

/**
 * One rollout the driver runs, in memory: the snapshot and execution rows exactly as last committed, the pin set
 * it delivers, its job queue (calls are serialised per rollout), its wake-up timer and its telemetry window.
 */
export interface Slot {
  readonly id: string;
  readonly fleet: string;
  readonly pinset: PinSetRow;
  snapshot: RolloutSnapshot;
  readonly execs: Map<string, ExecutionRecord>;
  queue: Promise<void>;
  timer: NodeJS.Timeout | null;
  timerAt: number | null;
  /**
   * Devices of the rollout on its seq that reported in the gate window, and those of them that reported a
   * mismatch (SPEC §6 → the telemetry gate counts devices, not reports: issue 17).
   */
  tele: { since: number; reporters: Set<string>; mismatchers: Set<string> };
  /**
   * Device acks waiting in the last job queued on this slot, applied together in one commit (one transaction
   * instead of one per ack). Null when no such job is open: any other job queued after it closes it (enqueue),
   * so acks and other jobs keep their arrival order.
   */
  ackBatch: PendingAck[] | null;
  /**
   * No timer fires a step before this moment (performance.now(), process time): a step costs O(devices of the
   * rollout), so the driver leaves the event loop at least STEP_SHARE⁻¹ − 1 times a step's cost to the device
   * messages between two steps (rollout-driver.ts `stepNow`).
   */
  quietUntil: number;
}

export interface PendingAck {
  readonly deviceId: string;
  readonly status: 'applied' | 'verified' | 'rejected';
  readonly code?: string;
}

export async function loadSlot(row: RolloutRow, pinset: PinSetRow, store: RolloutRepo): Promise<Slot> {
  const execs = new Map((await store.executions(row.id)).map((e) => [e.deviceId, e] as const));
  return {
    id: row.id,
    fleet: row.fleet,
    pinset,
    snapshot: row.snapshot,
    execs,
    queue: Promise.resolve(),
    timer: null,
    timerAt: null,
    tele: { since: Number.NaN, reporters: new Set(), mismatchers: new Set() },
    ackBatch: null,
    quietUntil: 0,
  };
}

/**
 * Runs `job` after every job queued before it on this slot. The returned promise settles with the job (errors
 * reach the caller); the queue itself never rejects, so one failed job does not stop the next.
 */
export function enqueue<T>(slot: Slot, job: () => T | Promise<T>): Promise<T> {
  slot.ackBatch = null; // acks that arrive from now on run after this job
  const run = slot.queue.then(job);
  slot.queue = run.then(
    () => undefined,
    () => undefined,
  );
  return run;
}

/** True while the engine still has something to do by itself (timers, deliveries, stragglers). */
export function needsTicks(slot: Slot): boolean {
  const k = slot.snapshot.state.kind;
  if (k === 'RUNNING' || k === 'PAUSED') return true;
  if (k !== 'COMPLETED') return false;
  for (const e of slot.execs.values()) if (isActiveExecution(e.state)) return true;
  return false;
}
