import { describe, expect, it } from 'vitest';
import { insideWindow, localWeekTime, nextWindowOpening, parseWeeklyRange, validateWindows } from '../../gateway/rollout-engine/maintenance-window';
import { startDue, validateSchedule, waveMayStart } from '../../gateway/rollout-engine/schedule';

const at = (iso: string) => Date.parse(iso);
const BERLIN = { timeZone: 'Europe/Berlin', weekly: ['Tue,Thu 02:00-05:00', 'Sat 22:00-02:00'] };

describe('maintenance windows: weekly ranges in an IANA time zone (Intl)', () => {
  it('reads local weekday and minute in the zone, DST included', () => {
    expect(localWeekTime(at('2026-12-01T01:30:00Z'), 'Europe/Berlin')).toEqual({ day: 2, minute: 150 }); // Tue 02:30 CET (+1)
    expect(localWeekTime(at('2026-07-07T00:30:00Z'), 'Europe/Berlin')).toEqual({ day: 2, minute: 150 }); // Tue 02:30 CEST (+2)
    expect(localWeekTime(at('2026-12-01T01:30:00Z'), 'America/New_York')).toEqual({ day: 1, minute: 20 * 60 + 30 }); // Mon 20:30
  });

  it('is inside a range from its start (inclusive) to its end (exclusive)', () => {
    expect(insideWindow(at('2026-12-01T00:59:59Z'), BERLIN)).toBe(false); // Tue 01:59:59 local
    expect(insideWindow(at('2026-12-01T01:00:00Z'), BERLIN)).toBe(true); // Tue 02:00
    expect(insideWindow(at('2026-12-01T03:59:00Z'), BERLIN)).toBe(true); // Tue 04:59
    expect(insideWindow(at('2026-12-01T04:00:00Z'), BERLIN)).toBe(false); // Tue 05:00
    expect(insideWindow(at('2026-12-02T01:30:00Z'), BERLIN)).toBe(false); // Wed 02:30
    // summer: the same local times are one hour earlier in UTC
    expect(insideWindow(at('2026-07-07T00:00:00Z'), BERLIN)).toBe(true); // Tue 02:00 CEST
    expect(insideWindow(at('2026-07-07T03:00:00Z'), BERLIN)).toBe(false); // Tue 05:00 CEST
  });

  it('a range whose end is before its start runs past midnight into the next day', () => {
    expect(insideWindow(at('2026-12-05T21:00:00Z'), BERLIN)).toBe(true); // Sat 22:00
    expect(insideWindow(at('2026-12-06T00:59:00Z'), BERLIN)).toBe(true); // Sun 01:59
    expect(insideWindow(at('2026-12-06T01:00:00Z'), BERLIN)).toBe(false); // Sun 02:00
    expect(insideWindow(at('2026-12-04T23:30:00Z'), BERLIN)).toBe(false); // Sat 00:30: Friday has no range
  });

  it('finds the next opening, across the week and across a DST change', () => {
    // Wed 10:00 → Thu 02:00 local
    expect(nextWindowOpening(at('2026-12-02T09:00:00Z'), BERLIN)).toBe(at('2026-12-03T01:00:00Z'));
    // inside already: now
    expect(nextWindowOpening(at('2026-12-01T02:00:00Z'), BERLIN)).toBe(at('2026-12-01T02:00:00Z'));
    // Fri 2026-03-27 (CET) → Sat 2026-03-28 22:00 CET, then the clocks go forward on Sunday
    expect(nextWindowOpening(at('2026-03-27T12:00:00Z'), BERLIN)).toBe(at('2026-03-28T21:00:00Z'));
    // Sun 2026-03-29 03:00 CEST (after the change) → Tue 2026-03-31 02:00 CEST = 00:00Z
    expect(nextWindowOpening(at('2026-03-29T01:00:00Z'), BERLIN)).toBe(at('2026-03-31T00:00:00Z'));
    const daily = { timeZone: 'UTC', weekly: ['Mon-Sun 00:00-24:00'] };
    expect(nextWindowOpening(at('2026-12-02T09:17:23Z'), daily)).toBe(at('2026-12-02T09:17:23Z'));
  });

  it('refuses bad zones and ranges with a message naming them', () => {
    expect(parseWeeklyRange('Mon-Fri 02:00-05:00')).not.toBeTypeOf('string');
    expect(parseWeeklyRange('Fri-Mon 22:00-06:00')).toMatchObject({ days: new Set([5, 6, 0, 1]) });
    expect(parseWeeklyRange('Mon 2:00-5:00')).toMatch(/not DAYS HH:MM-HH:MM/);
    expect(parseWeeklyRange('Mox 02:00-05:00')).toMatch(/unknown day/);
    expect(parseWeeklyRange('Mon 25:00-05:00')).toMatch(/00:00 to 24:00/);
    expect(parseWeeklyRange('Mon 02:00-02:00')).toMatch(/empty range/);
    expect(validateWindows({ timeZone: 'Mars/Olympus', weekly: ['Mon 02:00-03:00'] })).toEqual([
      'windows.timeZone: "Mars/Olympus" is not an IANA time zone',
    ]);
    expect(validateWindows({ timeZone: 'UTC', weekly: [] })).toEqual(['windows.weekly: 1 to 28 ranges']);
    expect(validateSchedule({ startAt: -1, when: 1 })).toEqual(['schedule.when: unknown field', 'schedule.startAt: must be ms since the epoch']);
  });

  it('a wave may start only inside a window; a DRAFT starts once startAt has come and a window is open', () => {
    const schedule = { startAt: at('2026-12-01T00:00:00Z'), windows: BERLIN };
    expect(waveMayStart(undefined, 0)).toEqual({ ok: true });
    const closed = waveMayStart(schedule, at('2026-12-01T00:30:00Z'));
    expect(closed).toMatchObject({ ok: false, opensAt: at('2026-12-01T01:00:00Z') });
    expect(closed.ok ? '' : closed.why).toMatch(/outside the maintenance window \(Europe\/Berlin Tue,Thu 02:00-05:00, Sat 22:00-02:00\); it opens at 2026-12-01T01:00:00.000Z/);
    expect(startDue(schedule, at('2026-11-30T23:59:59Z'))).toBe(false); // before startAt
    expect(startDue(schedule, at('2026-12-01T00:30:00Z'))).toBe(false); // startAt passed, window closed
    expect(startDue(schedule, at('2026-12-01T01:00:00Z'))).toBe(true);
    expect(startDue({ windows: BERLIN }, at('2026-12-01T01:00:00Z'))).toBe(false); // no startAt: started by hand
  });
});
