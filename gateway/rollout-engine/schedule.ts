/**
 * A rollout's schedule, kept in its config (so in its snapshot: a restart keeps it): `startAt` (ms since the
 * epoch; the driver starts the DRAFT then) and maintenance windows (the fleet's, copied at creation). Waves —
 * the first included — start only inside a window: the gates' "advance" waits (hold) outside it. Pure.
 */
import { insideWindow, nextWindowOpening, validateWindows, type MaintenanceWindows } from './maintenance-window.js';

export interface RolloutSchedule {
  readonly startAt?: number;
  readonly windows?: MaintenanceWindows;
}

export function validateSchedule(s: unknown): string[] {
  if (typeof s !== 'object' || s === null || Array.isArray(s)) return ['schedule: must be an object'];
  const o = s as Record<string, unknown>;
  const errors: string[] = [];
  for (const k of Object.keys(o)) if (k !== 'startAt' && k !== 'windows') errors.push(`schedule.${k}: unknown field`);
  if (o['startAt'] !== undefined && (typeof o['startAt'] !== 'number' || !Number.isSafeInteger(o['startAt']) || o['startAt'] < 0)) {
    errors.push('schedule.startAt: must be ms since the epoch');
  }
  if (o['windows'] !== undefined) errors.push(...validateWindows(o['windows']).map((e) => `schedule.${e}`));
  return errors;
}

/** Whether a wave may start at `now` (windows only; startAt concerns the DRAFT's start, see `startDue`). */
export function waveMayStart(schedule: RolloutSchedule | undefined, now: number): { ok: true } | { ok: false; why: string; opensAt: number | null } {
  const w = schedule?.windows;
  if (w === undefined || insideWindow(now, w)) return { ok: true };
  const opensAt = nextWindowOpening(now, w);
  return {
    ok: false,
    opensAt,
    why: `outside the maintenance window (${w.timeZone} ${w.weekly.join(', ')})${opensAt === null ? '' : `; it opens at ${new Date(opensAt).toISOString()}`}`,
  };
}

/** Whether the driver should start a scheduled DRAFT now: startAt reached and a window open. */
export function startDue(schedule: RolloutSchedule | undefined, now: number): boolean {
  if (schedule?.startAt === undefined || now < schedule.startAt) return false;
  return waveMayStart(schedule, now).ok;
}
