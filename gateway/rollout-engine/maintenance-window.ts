/**
 * Maintenance windows: weekly ranges of local time in an IANA time zone, e.g. {timeZone: "Europe/Berlin",
 * weekly: ["Tue,Thu 02:00-05:00", "Sat 22:00-02:00"]}. A range whose end is not after its start runs past
 * midnight into the next day; "00:00-24:00" is a whole day. Local time is computed with Intl (the tz database
 * of the runtime), so daylight-saving changes are honoured: a range in a skipped hour does not occur that day,
 * a repeated hour counts twice. Pure functions of an instant (ms since the epoch); no clock is read here.
 */

export interface MaintenanceWindows {
  readonly timeZone: string;
  readonly weekly: readonly string[];
}

interface WeeklyRange {
  /** 0 = Sunday … 6 = Saturday (Date#getDay order). */
  readonly days: ReadonlySet<number>;
  /** Minutes after local midnight. */
  readonly start: number;
  /** Minutes after local midnight of the start day; ≤ start: ends on the next day. */
  readonly end: number;
}

const DAY_NAMES = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];
const MINUTES_PER_WEEK = 7 * 1440;

function dayIndex(name: string): number {
  return DAY_NAMES.indexOf(name.slice(0, 3).toLowerCase());
}

/** "Mon-Fri 02:00-05:00" → a range, or an error message. */
export function parseWeeklyRange(text: string): WeeklyRange | string {
  const m = /^\s*([A-Za-z]{3}(?:-[A-Za-z]{3})?(?:,[A-Za-z]{3}(?:-[A-Za-z]{3})?)*)\s+(\d{2}):(\d{2})-(\d{2}):(\d{2})\s*$/.exec(text);
  if (m === null) return `"${text}" is not DAYS HH:MM-HH:MM (e.g. "Mon-Fri 02:00-05:00")`;
  const days = new Set<number>();
  for (const part of (m[1] as string).split(',')) {
    const [a, b] = part.split('-') as [string, string | undefined];
    const from = dayIndex(a);
    const to = b === undefined ? from : dayIndex(b);
    if (from < 0 || to < 0) return `"${text}": unknown day in "${part}" (Mon Tue Wed Thu Fri Sat Sun)`;
    for (let d = from; ; d = (d + 1) % 7) {
      days.add(d);
      if (d === to) break;
    }
  }
  const [h1, m1, h2, m2] = [m[2], m[3], m[4], m[5]].map(Number) as [number, number, number, number];
  if (h1 > 23 || m1 > 59 || m2 > 59 || h2 > 24 || (h2 === 24 && m2 !== 0)) return `"${text}": times run from 00:00 to 24:00`;
  const start = h1 * 60 + m1;
  const end = h2 * 60 + m2;
  if (start === end) return `"${text}": an empty range (for a whole day write 00:00-24:00)`;
  return { days, start, end };
}

const formatters = new Map<string, Intl.DateTimeFormat>();

/** Whether Intl knows the zone (IANA names such as "Europe/Berlin", or "UTC"). */
export function isTimeZone(tz: string): boolean {
  try {
    formatterFor(tz);
    return true;
  } catch {
    return false;
  }
}

function formatterFor(tz: string): Intl.DateTimeFormat {
  let f = formatters.get(tz);
  if (f === undefined) {
    f = new Intl.DateTimeFormat('en-US', { timeZone: tz, weekday: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
    formatters.set(tz, f);
  }
  return f;
}

/** Local weekday (0 = Sunday) and minute of the day of an instant in a time zone. */
export function localWeekTime(ms: number, tz: string): { day: number; minute: number } {
  const parts = formatterFor(tz).formatToParts(new Date(ms));
  const get = (type: string) => parts.find((p) => p.type === type)?.value ?? '';
  return { day: dayIndex(get('weekday')), minute: (Number(get('hour')) % 24) * 60 + Number(get('minute')) };
}

/** Validates windows; an empty list means valid. */
export function validateWindows(w: unknown): string[] {
  if (typeof w !== 'object' || w === null) return ['windows: must be an object {timeZone, weekly}'];
  const { timeZone, weekly } = w as Record<string, unknown>;
  const errors: string[] = [];
  if (typeof timeZone !== 'string' || !isTimeZone(timeZone)) errors.push(`windows.timeZone: ${JSON.stringify(timeZone)} is not an IANA time zone`);
  if (!Array.isArray(weekly) || weekly.length === 0 || weekly.length > 28) errors.push('windows.weekly: 1 to 28 ranges');
  else {
    for (const r of weekly) {
      const p = typeof r === 'string' ? parseWeeklyRange(r) : 'must be a string';
      if (typeof p === 'string') errors.push(`windows.weekly: ${p}`);
    }
  }
  return errors;
}

function rangesOf(w: MaintenanceWindows): WeeklyRange[] {
  return w.weekly.map(parseWeeklyRange).filter((r): r is WeeklyRange => typeof r !== 'string');
}

/** True when the instant falls inside one of the ranges. */
export function insideWindow(ms: number, w: MaintenanceWindows): boolean {
  const { day, minute } = localWeekTime(ms, w.timeZone);
  return rangesOf(w).some((r) =>
    r.end > r.start
      ? r.days.has(day) && minute >= r.start && minute < r.end
      : (r.days.has(day) && minute >= r.start) || (r.days.has((day + 6) % 7) && minute < r.end),
  );
}

/**
 * The first instant at or after `ms` inside a window (minute precision), or null when none comes within 8
 * days (only for ranges that never occur, e.g. all in a skipped DST hour). Jumps from range start to range
 * start in local time, re-reading the local time after each jump, so DST changes cost one extra jump.
 */
export function nextWindowOpening(ms: number, w: MaintenanceWindows): number | null {
  if (insideWindow(ms, w)) return ms;
  const ranges = rangesOf(w);
  const horizon = ms + 8 * 86_400_000;
  let t = Math.ceil(ms / 60_000) * 60_000;
  for (let i = 0; i < 64 && t <= horizon; i++) {
    if (insideWindow(t, w)) return t;
    const { day, minute } = localWeekTime(t, w.timeZone);
    const here = day * 1440 + minute;
    let delta = MINUTES_PER_WEEK;
    for (const r of ranges) {
      for (const d of r.days) {
        const ahead = (((d * 1440 + r.start - here) % MINUTES_PER_WEEK) + MINUTES_PER_WEEK) % MINUTES_PER_WEEK;
        if (ahead > 0 && ahead < delta) delta = ahead;
      }
    }
    t += delta * 60_000;
  }
  return null;
}
