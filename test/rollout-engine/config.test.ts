import { describe, expect, it } from 'vitest';
import {
  createRollout,
  DEFAULT_ROLLOUT_CONFIG,
  fullBucket,
  refill,
  available,
  resolveConfig,
} from '../../gateway/rollout-engine/index.js';

describe('resolveConfig', () => {
  it('defaults, and partial overrides merged over them', () => {
    expect(resolveConfig(undefined)).toEqual({ ok: true, config: DEFAULT_ROLLOUT_CONFIG });
    const r = resolveConfig({ gates: { manualApproval: true, soakMs: 0 }, rate: { perSecond: 5 } });
    expect(r.ok && r.config.gates).toEqual({ ...DEFAULT_ROLLOUT_CONFIG.gates, manualApproval: true, soakMs: 0 });
    expect(r.ok && r.config.rate).toEqual({ perSecond: 5, burst: DEFAULT_ROLLOUT_CONFIG.rate.burst });
  });

  it.each([
    ['unknown section', { foo: {} }, /config\.foo/],
    ['unknown gate', { gates: { successRatio: 1 } }, /gates\.successRatio/],
    ['percent above 100', { gates: { successPercent: 101 } }, /successPercent/],
    ['percent with 3 decimals', { gates: { errorPercent: 0.125 } }, /two decimals/],
    ['fractional attempts', { delivery: { maxAttempts: 2.5 } }, /maxAttempts/],
    ['boolean as string', { gates: { manualApproval: 'yes' } }, /manualApproval/],
    ['cap below base', { delivery: { backoffBaseMs: 10_000, backoffMaxMs: 5_000 } }, /backoffMaxMs/],
    ['zero rate', { rate: { perSecond: 0 } }, /perSecond/],
    ['rate above 100,000/s', { rate: { perSecond: 100_001 } }, /perSecond/],
    ['burst above a million', { rate: { burst: 1_000_001 } }, /burst/],
    ['not an object', 'fast', /object/],
  ])('rejects %s', (_n, input, message) => {
    const r = resolveConfig(input);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errors.join('\n')).toMatch(message);
  });
  it('takes a burst larger than the rate: a whole wave of a large fleet may leave in one step', () => {
    const r = resolveConfig({ rate: { perSecond: 100_000, burst: 1_000_000 } });
    expect(r.ok && r.config.rate).toEqual({ perSecond: 100_000, burst: 1_000_000 });
  });
});

describe('createRollout', () => {
  it('collects every problem', () => {
    const r = createRollout({ id: '', fleet: 'f', seq: -1, now: 0, plan: { waves: [] }, config: { gates: { soakMs: -1 } } });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errors).toHaveLength(4);
  });

  it('a DRAFT with the default plan, full bucket and plan warnings passed through', () => {
    const r = createRollout({ id: 'r', fleet: 'f', seq: 3, now: 5, plan: { waves: [{ limit: { count: 2 } }] } });
    expect(r.ok).toBe(true);
    if (r.ok) {
      expect(r.rollout.state).toEqual({ kind: 'DRAFT' });
      expect(r.rollout.bucket).toEqual({ tokens: 50, updatedAt: 5 });
      expect(r.warnings).toHaveLength(1);
    }
  });
});

describe('token bucket', () => {
  const rate = { perSecond: 4, burst: 10 };
  it('refills linearly up to the burst; a clock going backwards refills nothing', () => {
    const empty = { tokens: 0, updatedAt: 1000 };
    expect(available(refill(empty, rate, 1249))).toBe(0);
    expect(available(refill(empty, rate, 1250))).toBe(1);
    expect(refill(empty, rate, 100_000)).toEqual({ tokens: 10, updatedAt: 100_000 });
    expect(refill(empty, rate, 500)).toBe(empty);
    expect(fullBucket(rate, 7)).toEqual({ tokens: 10, updatedAt: 7 });
  });
});
