/**
 * Per-rollout configuration (SPEC §7 gates, delivery retries, rate limit), stored inside the rollout snapshot so
 * that a restarted gateway continues with exactly the settings the rollout started with.
 */
import { DEFAULT_DELIVERY_POLICY, type DeliveryPolicy } from './execution-state.js';
import { DEFAULT_GATES, type GateConfig } from './gates.js';
import { DEFAULT_RATE_LIMIT, type RateLimit } from './token-bucket.js';
import { validateSchedule, type RolloutSchedule } from './schedule.js';

export interface RolloutConfig {
  readonly gates: GateConfig;
  readonly delivery: DeliveryPolicy;
  readonly rate: RateLimit;
  /** startAt and maintenance windows; absent = start by hand, waves at any time. */
  readonly schedule?: RolloutSchedule;
}

export const DEFAULT_ROLLOUT_CONFIG: RolloutConfig = {
  gates: DEFAULT_GATES,
  delivery: DEFAULT_DELIVERY_POLICY,
  rate: DEFAULT_RATE_LIMIT,
};

/** Partial input (POST /api/rollouts `gates`, `manualApproval`, …): any field may be omitted. */
export interface RolloutConfigInput {
  readonly gates?: Partial<GateConfig>;
  readonly delivery?: Partial<DeliveryPolicy>;
  readonly rate?: Partial<RateLimit>;
  readonly schedule?: RolloutSchedule;
}

export type ConfigResult =
  | { readonly ok: true; readonly config: RolloutConfig }
  | { readonly ok: false; readonly errors: readonly string[] };

type Rule = { min: number; max: number; integer: boolean };

const GATE_RULES: Record<Exclude<keyof GateConfig, 'manualApproval'>, Rule> = {
  successPercent: { min: 0.01, max: 100, integer: false },
  soakMs: { min: 0, max: 7 * 24 * 3_600_000, integer: true },
  errorPercent: { min: 0, max: 100, integer: false },
  errorMinFinished: { min: 1, max: 1_000_000, integer: true },
  telemetryMismatchPercent: { min: 0, max: 100, integer: false },
  telemetryMinReports: { min: 1, max: 1_000_000, integer: true },
};

const DELIVERY_RULES: Record<keyof DeliveryPolicy, Rule> = {
  deliveryTimeoutMs: { min: 1_000, max: 24 * 3_600_000, integer: true },
  verifyTimeoutMs: { min: 1_000, max: 7 * 24 * 3_600_000, integer: true },
  maxAttempts: { min: 1, max: 100, integer: true },
  backoffBaseMs: { min: 0, max: 24 * 3_600_000, integer: true },
  backoffMaxMs: { min: 0, max: 7 * 24 * 3_600_000, integer: true },
};

const RATE_RULES: Record<keyof RateLimit, Rule> = {
  perSecond: { min: 0.001, max: 100_000, integer: false },
  // a burst may exceed the rate: it is how many deliveries a step may send at once, and a wave of a large fleet
  // (500,000 devices in the default plan's "50 %" at a million) otherwise needs wave ÷ burst steps, each
  // O(executions) (docs/million.md)
  burst: { min: 1, max: 1_000_000, integer: true },
};

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function section<T extends object>(
  name: string,
  input: unknown,
  defaults: T,
  rules: Partial<Record<keyof T, Rule>>,
  errors: string[],
): T {
  if (input === undefined) return defaults;
  if (!isObj(input)) {
    errors.push(`${name}: must be an object`);
    return defaults;
  }
  const out: Record<string, unknown> = { ...(defaults as Record<string, unknown>) };
  for (const [k, v] of Object.entries(input)) {
    if (!(k in defaults)) {
      errors.push(`${name}.${k}: unknown field`);
      continue;
    }
    const rule = rules[k as keyof T];
    if (rule === undefined) {
      if (typeof v !== 'boolean') errors.push(`${name}.${k}: must be a boolean`);
      else out[k] = v;
      continue;
    }
    if (typeof v !== 'number' || !Number.isFinite(v) || v < rule.min || v > rule.max || (rule.integer && !Number.isInteger(v))) {
      errors.push(`${name}.${k}: must be ${rule.integer ? 'an integer' : 'a number'} in [${rule.min}, ${rule.max}]`);
      continue;
    }
    if (!rule.integer && Math.abs(v * 100 - Math.round(v * 100)) > 1e-9 && name === 'gates') {
      errors.push(`${name}.${k}: at most two decimals`);
      continue;
    }
    out[k] = v;
  }
  return out as unknown as T;
}

/** Merge a user's partial config over the defaults and validate it. Unknown fields are errors. */
export function resolveConfig(input: unknown): ConfigResult {
  const errors: string[] = [];
  if (input !== undefined && !isObj(input)) return { ok: false, errors: ['config: must be an object'] };
  const o = (input ?? {}) as Record<string, unknown>;
  for (const k of Object.keys(o)) if (!['gates', 'delivery', 'rate', 'schedule'].includes(k)) errors.push(`config.${k}: unknown field`);
  const schedule = o['schedule'];
  if (schedule !== undefined) errors.push(...validateSchedule(schedule));
  const gates = section('gates', o['gates'], DEFAULT_GATES, GATE_RULES, errors);
  const delivery = section('delivery', o['delivery'], DEFAULT_DELIVERY_POLICY, DELIVERY_RULES, errors);
  const rate = section('rate', o['rate'], DEFAULT_RATE_LIMIT, RATE_RULES, errors);
  if (delivery.backoffMaxMs < delivery.backoffBaseMs) errors.push('delivery.backoffMaxMs: must be ≥ backoffBaseMs');
  if (errors.length > 0) return { ok: false, errors };
  return { ok: true, config: { gates, delivery, rate, ...(schedule === undefined ? {} : { schedule: schedule as RolloutSchedule }) } };
}
