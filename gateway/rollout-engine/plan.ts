/**
 * Rollout plans (SPEC §7): waves of {selector, limit as a count or a percentage of the devices still remaining};
 * default canary min(1 %, 5 devices) → 10 % → 25 % → 50 % → rest.
 */
import { compareByRank } from './stable-hash.js';

/** A device as the rollout sees it. `online` = connected to the broker now. */
export interface DeviceInfo {
  readonly deviceId: string;
  readonly deviceClass: string;
  readonly labels: readonly string[];
  readonly online: boolean;
}

/**
 * Which devices a wave (or a pin set's target) may take. Absent field = no restriction; fields are ANDed,
 * values within a field ORed (a device matches `labels` when it carries any of them).
 */
export interface Selector {
  readonly deviceClasses?: readonly string[];
  readonly deviceIds?: readonly string[];
  readonly labels?: readonly string[];
}

/**
 * `count`: that many devices. `percent`: of the matching devices still remaining, rounded up, then clamped to
 * [min, max]. Every non-empty wave takes at least 1 device.
 */
export type WaveLimit =
  | { readonly count: number }
  | { readonly percent: number; readonly min?: number; readonly max?: number };

export interface WaveSpec {
  readonly name?: string;
  readonly selector?: Selector;
  readonly limit: WaveLimit;
}

export interface Plan {
  readonly waves: readonly WaveSpec[];
}

export const MAX_WAVES = 32;

/** SPEC §7 default plan. */
export const DEFAULT_PLAN: Plan = {
  waves: [
    { name: 'canary', limit: { percent: 1, max: 5 } },
    { name: '10%', limit: { percent: 10 } },
    { name: '25%', limit: { percent: 25 } },
    { name: '50%', limit: { percent: 50 } },
    { name: 'rest', limit: { percent: 100 } },
  ],
};

export function matchesSelector(device: DeviceInfo, selector: Selector | undefined): boolean {
  if (selector === undefined) return true;
  if (selector.deviceClasses !== undefined && !selector.deviceClasses.includes(device.deviceClass)) return false;
  if (selector.deviceIds !== undefined && !selector.deviceIds.includes(device.deviceId)) return false;
  if (selector.labels !== undefined && !selector.labels.some((l) => device.labels.includes(l))) return false;
  return true;
}

/** Percent → basis points; plans accept at most two decimals so integer arithmetic is exact. */
export function basisPoints(percent: number): number {
  return Math.round(percent * 100);
}

/** How many of `remaining` matching devices a wave takes. */
export function waveQuota(limit: WaveLimit, remaining: number): number {
  if (remaining <= 0) return 0;
  let n: number;
  if ('count' in limit) {
    n = limit.count;
  } else {
    n = Math.ceil((basisPoints(limit.percent) * remaining) / 10_000);
    if (limit.min !== undefined) n = Math.max(n, limit.min);
    if (limit.max !== undefined) n = Math.min(n, limit.max);
  }
  return Math.min(remaining, Math.max(1, n));
}

/**
 * Devices for wave `waveIndex`, deterministic: the matching devices of `remaining` (not yet enrolled) sorted by
 * a stable hash of rolloutId+deviceId, then the first `waveQuota` of them. Online state is ignored on purpose:
 * the order must not depend on when the wave started (restart-safe); offline devices wait QUEUED.
 */
export function assignWave(
  plan: Plan,
  waveIndex: number,
  remaining: readonly DeviceInfo[],
  rolloutId: string,
): string[] {
  const wave = plan.waves[waveIndex];
  if (wave === undefined) return [];
  const ids = remaining.filter((d) => matchesSelector(d, wave.selector)).map((d) => d.deviceId);
  ids.sort(compareByRank(rolloutId));
  return ids.slice(0, waveQuota(wave.limit, ids.length));
}

export type PlanValidation =
  | { readonly ok: true; readonly plan: Plan; readonly warnings: readonly string[] }
  | { readonly ok: false; readonly errors: readonly string[] };

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isPosInt = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 1;

function unknownKeys(o: Record<string, unknown>, allowed: readonly string[], at: string, errors: string[]): void {
  for (const k of Object.keys(o)) if (!allowed.includes(k)) errors.push(`${at}: unknown field "${k}"`);
}

/** Validate a selector (also used for a pin set's target). */
export function validateSelector(v: unknown, at: string, errors: string[]): Selector | undefined {
  if (!isObj(v)) {
    errors.push(`${at}: must be an object`);
    return undefined;
  }
  unknownKeys(v, ['deviceClasses', 'deviceIds', 'labels'], at, errors);
  const out: { deviceClasses?: string[]; deviceIds?: string[]; labels?: string[] } = {};
  for (const key of ['deviceClasses', 'deviceIds', 'labels'] as const) {
    const list = v[key];
    if (list === undefined) continue;
    if (!Array.isArray(list) || list.length === 0 || !list.every((s) => typeof s === 'string' && s.length > 0)) {
      errors.push(`${at}.${key}: must be a non-empty array of non-empty strings (omit it to match all)`);
      continue;
    }
    out[key] = [...new Set(list as string[])];
  }
  return out;
}

function validateLimit(v: unknown, at: string, errors: string[]): WaveLimit | undefined {
  if (!isObj(v)) {
    errors.push(`${at}: must be {count} or {percent, min?, max?}`);
    return undefined;
  }
  if ('count' in v) {
    unknownKeys(v, ['count'], at, errors);
    if (!isPosInt(v['count'])) errors.push(`${at}.count: must be an integer ≥ 1`);
    return { count: v['count'] as number };
  }
  if (!('percent' in v)) {
    errors.push(`${at}: needs count or percent`);
    return undefined;
  }
  unknownKeys(v, ['percent', 'min', 'max'], at, errors);
  const p = v['percent'];
  if (typeof p !== 'number' || !Number.isFinite(p) || p <= 0 || p > 100 || Math.abs(p * 100 - Math.round(p * 100)) > 1e-9) {
    errors.push(`${at}.percent: must be in (0, 100] with at most two decimals`);
  }
  const out: { percent: number; min?: number; max?: number } = { percent: p as number };
  for (const key of ['min', 'max'] as const) {
    if (v[key] === undefined) continue;
    if (!isPosInt(v[key])) errors.push(`${at}.${key}: must be an integer ≥ 1`);
    else out[key] = v[key];
  }
  if (out.min !== undefined && out.max !== undefined && out.min > out.max) errors.push(`${at}: min > max`);
  return out;
}

/** Validate a user-given plan (POST /api/rollouts `plan`). Errors block; warnings are shown to the operator. */
export function validatePlan(input: unknown): PlanValidation {
  const errors: string[] = [];
  const warnings: string[] = [];
  if (!isObj(input)) return { ok: false, errors: ['plan: must be an object {waves: [...]}'] };
  unknownKeys(input, ['waves'], 'plan', errors);
  const waves = input['waves'];
  if (!Array.isArray(waves) || waves.length === 0 || waves.length > MAX_WAVES) {
    return { ok: false, errors: [...errors, `plan.waves: must be an array of 1..${MAX_WAVES} waves`] };
  }
  const out: WaveSpec[] = [];
  waves.forEach((w: unknown, i) => {
    const at = `plan.waves[${i}]`;
    if (!isObj(w)) {
      errors.push(`${at}: must be an object`);
      return;
    }
    unknownKeys(w, ['name', 'selector', 'limit'], at, errors);
    const limit = validateLimit(w['limit'], `${at}.limit`, errors);
    const wave: { name?: string; selector?: Selector; limit: WaveLimit } = { limit: limit ?? { count: 1 } };
    if (w['name'] !== undefined) {
      if (typeof w['name'] !== 'string' || w['name'].length === 0 || w['name'].length > 64) {
        errors.push(`${at}.name: must be a string of 1..64 characters`);
      } else wave.name = w['name'];
    }
    if (w['selector'] !== undefined) {
      const sel = validateSelector(w['selector'], `${at}.selector`, errors);
      if (sel !== undefined) wave.selector = sel;
    }
    out.push(wave);
  });
  if (errors.length > 0) return { ok: false, errors };
  const last = out[out.length - 1];
  if (last !== undefined && !isRest(last)) {
    warnings.push(
      'plan: the last wave is not "rest" ({limit: {percent: 100}} without selector): devices it does not take are never delivered by this rollout',
    );
  }
  return { ok: true, plan: { waves: out }, warnings };
}

/** A "rest" wave: every remaining device of the fleet, no selector, no cap. */
export function isRest(w: WaveSpec): boolean {
  return w.selector === undefined && 'percent' in w.limit && w.limit.percent === 100 && w.limit.max === undefined;
}
