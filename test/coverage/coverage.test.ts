import { describe, expect, it } from 'vitest';
import {
  applyCoverageDelta,
  coverageDelta,
  coverageRows,
  pinsForHost,
  readiness,
  tallyReadiness,
  wouldLoseConnectivity,
  type CoverageCounters,
  type DeviceCoverageInput,
  type PinSetView,
} from '../../gateway/coverage/index.js';

const OLD = 'sha256/OLD=';
const NEW = 'sha256/NEW=';
const BAK = 'sha256/BAK=';
const FAIL_OPEN = 1_800_000_000; // unix seconds

const set = (pins: string[], enforce = true, failOpenAfter?: number, name = 'api.example.com', sub = false): PinSetView => ({
  hosts: [{ name, includeSubdomains: sub, pins, enforce }],
  ...(failOpenAfter === undefined ? {} : { failOpenAfter }),
});

describe('wouldLoseConnectivity (SPEC §8: enforced, pin absent, fail-open not reached)', () => {
  it.each([
    ['enforced, new pin absent', set([OLD, BAK]), true],
    ['enforced, new pin present', set([OLD, NEW]), false],
    ['not enforced', set([OLD, BAK], false), false],
    ['host not pinned at all', set([OLD, BAK], true, undefined, 'other.example.com'), false],
    ['fail-open date in the future', set([OLD, BAK], true, FAIL_OPEN + 1), true],
    ['fail-open date exactly now: not after it yet', set([OLD, BAK], true, FAIL_OPEN), true],
    ['fail-open date passed', set([OLD, BAK], true, FAIL_OPEN - 1), false],
    ['parent with includeSubdomains', set([OLD, BAK], true, undefined, 'example.com', true), true],
    ['parent without includeSubdomains', set([OLD, BAK], true, undefined, 'example.com', false), false],
  ])('%s → %s', (_n, s, expected) => {
    expect(wouldLoseConnectivity(s, 'API.example.com', NEW, FAIL_OPEN * 1000)).toBe(expected);
  });

  it('the most specific entry wins', () => {
    const s: PinSetView = {
      hosts: [
        { name: 'example.com', includeSubdomains: true, pins: [OLD, BAK], enforce: true },
        { name: 'api.example.com', includeSubdomains: false, pins: [NEW, BAK], enforce: true },
      ],
    };
    expect(pinsForHost(s, 'api.example.com')?.pins).toEqual([NEW, BAK]);
    expect(pinsForHost(s, 'x.api.example.com')?.pins).toEqual([OLD, BAK]);
    expect(wouldLoseConnectivity(s, 'api.example.com', NEW, 0)).toBe(false);
  });
});

describe('incremental counters', () => {
  it('deltas between verified sets; re-verifying the same set is a no-op; decommission subtracts', () => {
    const a = set([OLD, BAK]);
    const b = set([NEW, BAK]);
    expect(coverageDelta(null, a)).toEqual([
      { host: 'api.example.com', pin: BAK, delta: 1 },
      { host: 'api.example.com', pin: OLD, delta: 1 },
    ]);
    expect(coverageDelta(a, a)).toEqual([]);
    expect(coverageDelta(a, b)).toEqual([
      { host: 'api.example.com', pin: NEW, delta: 1 },
      { host: 'api.example.com', pin: OLD, delta: -1 },
    ]);
    let c: CoverageCounters = {};
    for (let i = 0; i < 20; i++) c = applyCoverageDelta(c, coverageDelta(null, a));
    for (let i = 0; i < 19; i++) c = applyCoverageDelta(c, coverageDelta(a, b));
    expect(coverageRows(c, 20)).toEqual([
      { host: 'api.example.com', pin: BAK, verified: 20, total: 20, percent: 100 },
      { host: 'api.example.com', pin: NEW, verified: 19, total: 20, percent: 95 },
      { host: 'api.example.com', pin: OLD, verified: 1, total: 20, percent: 5 },
    ]);
    c = applyCoverageDelta(c, coverageDelta(a, null));
    expect(coverageRows(c, 19).map((r) => r.pin)).toEqual([BAK, NEW]);
  });
});

describe('readiness', () => {
  it.each([
    ['95 % exactly is ready', 19, 20, true],
    ['94.99 % is not', 9_499, 10_000, false],
    ['empty fleet is ready', 0, 0, true],
  ])('%s', (_n, verified, fleetSize, ready) => {
    expect(readiness({ verified, fleetSize, atRisk: fleetSize - verified }).ready).toBe(ready);
  });

  it('reports coverage, target and atRisk; custom target', () => {
    expect(readiness({ verified: 9, fleetSize: 10, atRisk: 1, target: 90 })).toEqual({ ready: true, coverage: 90, target: 90, atRisk: 1 });
  });

  it('tallies a fleet in one pass: covered needs verified; at risk uses the installed set; unknown apart', () => {
    const devices: DeviceCoverageInput[] = [
      { deviceId: 'd1', installed: set([NEW, BAK]), verified: true },
      { deviceId: 'd2', installed: set([NEW, BAK]), verified: false }, // applied only: not covered, not at risk
      { deviceId: 'd5', installed: set([OLD, BAK]), verified: true }, // at risk
      { deviceId: 'd3', installed: set([OLD, BAK], true, 1), verified: true }, // failed open long ago
      { deviceId: 'd4', installed: null, verified: false },
      { deviceId: 'd0', installed: undefined, verified: false },
      { deviceId: 'd6', installed: set([OLD, BAK]), verified: false }, // at risk
    ];
    const t = tallyReadiness(devices, 'api.example.com', NEW, FAIL_OPEN * 1000, 1);
    expect(t).toEqual({ total: 7, verified: 1, atRisk: 2, atRiskIds: ['d5'], unknown: 1 });
    expect(readiness({ verified: t.verified, fleetSize: t.total, atRisk: t.atRisk })).toEqual({
      ready: false,
      coverage: 14.29,
      target: 95,
      atRisk: 2,
    });
  });
});
