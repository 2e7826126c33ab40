import { describe, expect, it } from 'vitest';
import { assignWave, DEFAULT_PLAN, validatePlan, waveQuota, type DeviceInfo, type Plan } from '../../gateway/rollout-engine/index.js';
import { device, fleet } from './harness.js';

/** Walk the default plan over a fleet of n devices: sizes of each wave. */
function waveSizes(plan: Plan, devices: DeviceInfo[], rolloutId = 'r'): number[] {
  let remaining = devices;
  const sizes: number[] = [];
  plan.waves.forEach((_w, i) => {
    const ids = new Set(assignWave(plan, i, remaining, rolloutId));
    sizes.push(ids.size);
    remaining = remaining.filter((d) => !ids.has(d.deviceId));
  });
  return sizes;
}

describe('default plan (SPEC §7: canary min(1 %, 5) → 10 % → 25 % → 50 % → rest, of the remaining)', () => {
  it.each([
    [1, [1, 0, 0, 0, 0]],
    [2, [1, 1, 0, 0, 0]],
    [10, [1, 1, 2, 3, 3]],
    [100, [1, 10, 23, 33, 33]],
    [1000, [5, 100, 224, 336, 335]],
    [10_000, [5, 1000, 2249, 3373, 3373]],
  ])('%i devices → %j', (n, expected) => {
    const sizes = waveSizes(DEFAULT_PLAN, fleet(n));
    expect(sizes).toEqual(expected);
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(n); // "rest" takes everyone left
  });
});

describe('waveQuota', () => {
  it.each([
    [{ count: 3 }, 10, 3],
    [{ count: 30 }, 10, 10],
    [{ count: 3 }, 0, 0],
    [{ percent: 10 }, 1, 1], // at least 1 device in a non-empty wave
    [{ percent: 10 }, 30, 3], // exact, no float rounding up to 4
    [{ percent: 0.1 }, 1000, 1], // 0.1 % of 1000 = 1, not 2 (0.1*1000/100 = 1.0000000000000002)
    [{ percent: 0.29 }, 10_000, 29],
    [{ percent: 33.33 }, 3, 1],
    [{ percent: 1, max: 5 }, 10_000, 5],
    [{ percent: 1, min: 3 }, 10, 3],
    [{ percent: 100 }, 7, 7],
  ] as const)('%j of %i → %i', (limit, remaining, expected) => {
    expect(waveQuota(limit, remaining)).toBe(expected);
  });
});

describe('assignWave', () => {
  const devices = fleet(200);

  it('is deterministic and independent of input order and online state', () => {
    const a = assignWave(DEFAULT_PLAN, 1, devices, 'r1');
    const shuffled = [...devices].reverse().map((d, i) => ({ ...d, online: i % 2 === 0 }));
    expect(assignWave(DEFAULT_PLAN, 1, shuffled, 'r1')).toEqual(a);
    expect(a).toHaveLength(20);
  });

  it('spreads canaries: not the first ids, and different per rollout', () => {
    const plan: Plan = { waves: [{ limit: { count: 10 } }] };
    const a = assignWave(plan, 0, devices, 'r1');
    const b = assignWave(plan, 0, devices, 'r2');
    expect(a).not.toEqual(devices.slice(0, 10).map((d) => d.deviceId));
    expect(a).not.toEqual(b);
  });

  it('honours selectors (classes AND labels, any label)', () => {
    const ds = [
      device('a', { deviceClass: 'cam', labels: ['eu'] }),
      device('b', { deviceClass: 'cam', labels: ['us'] }),
      device('c', { deviceClass: 'lock', labels: ['eu'] }),
      device('d', { deviceClass: 'cam', labels: ['eu', 'beta'] }),
    ];
    const plan: Plan = { waves: [{ selector: { deviceClasses: ['cam'], labels: ['eu', 'beta'] }, limit: { percent: 100 } }] };
    expect(assignWave(plan, 0, ds, 'r').sort()).toEqual(['a', 'd']);
    const ids: Plan = { waves: [{ selector: { deviceIds: ['c', 'zz'] }, limit: { count: 5 } }] };
    expect(assignWave(ids, 0, ds, 'r')).toEqual(['c']);
  });

  it('an unknown wave index or no remaining devices gives an empty wave', () => {
    expect(assignWave(DEFAULT_PLAN, 99, devices, 'r')).toEqual([]);
    expect(assignWave(DEFAULT_PLAN, 0, [], 'r')).toEqual([]);
  });
});

describe('validatePlan', () => {
  it('accepts the default plan without warnings', () => {
    expect(validatePlan(JSON.parse(JSON.stringify(DEFAULT_PLAN)))).toEqual({ ok: true, plan: DEFAULT_PLAN, warnings: [] });
  });

  it('warns when the last wave is not "rest"', () => {
    const r = validatePlan({ waves: [{ limit: { count: 5 } }] });
    expect(r.ok).toBe(true);
    if (r.ok) expect(r.warnings.join()).toMatch(/never delivered/);
  });

  it.each([
    ['not an object', 42, /plan/],
    ['no waves', { waves: [] }, /1\.\.32/],
    ['too many waves', { waves: Array.from({ length: 33 }, () => ({ limit: { count: 1 } })) }, /1\.\.32/],
    ['unknown plan key', { waves: [{ limit: { count: 1 } }], x: 1 }, /unknown field "x"/],
    ['count 0', { waves: [{ limit: { count: 0 } }] }, /count/],
    ['count fractional', { waves: [{ limit: { count: 1.5 } }] }, /count/],
    ['percent 0', { waves: [{ limit: { percent: 0 } }] }, /percent/],
    ['percent > 100', { waves: [{ limit: { percent: 101 } }] }, /percent/],
    ['percent 3 decimals', { waves: [{ limit: { percent: 0.125 } }] }, /two decimals/],
    ['min > max', { waves: [{ limit: { percent: 5, min: 9, max: 3 } }] }, /min > max/],
    ['no limit', { waves: [{}] }, /limit/],
    ['empty selector list', { waves: [{ selector: { labels: [] }, limit: { count: 1 } }] }, /labels/],
    ['unknown selector key', { waves: [{ selector: { region: ['eu'] }, limit: { count: 1 } }] }, /region/],
    ['bad name', { waves: [{ name: '', limit: { count: 1 } }] }, /name/],
  ])('rejects %s', (_n, input, message) => {
    const r = validatePlan(input);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errors.join('\n')).toMatch(message);
  });
});
