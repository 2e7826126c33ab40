/** Formatting helpers shared by the pages (plain strings; hono/jsx escapes them when rendered). */

/** "2025-03-01 14:05:09 UTC", or "—". */
export function fmtTime(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '—';
  return new Date(ms).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
}

/** "HH:MM" in UTC, for chart axes. */
export function fmtClock(ms: number): string {
  return new Date(ms).toISOString().slice(11, 16);
}

/** "3 s ago", "5 min ago", "2 h ago", "4 d ago". */
export function ago(ms: number | null | undefined, now: number): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '—';
  const s = Math.max(0, Math.round((now - ms) / 1000));
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86_400) return `${Math.floor(s / 3600)} h ago`;
  return `${Math.floor(s / 86_400)} d ago`;
}

/** "95 %", "99.5 %": at most one decimal, never rounds up to 100 unless it is 100. */
export function pct(p: number): string {
  if (!Number.isFinite(p)) return '—';
  const floored = Math.floor(p * 10) / 10;
  return `${Number.isInteger(floored) ? floored.toFixed(0) : floored.toFixed(1)} %`;
}

export function ratio(part: number, whole: number): number {
  return whole > 0 ? (100 * part) / whole : 0;
}

/** Milliseconds as "10 min", "1 h 30 min", "45 s". */
export function fmtDuration(ms: number | null): string {
  if (ms === null) return '—';
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min`;
  const h = Math.floor(m / 60);
  return m % 60 === 0 ? `${h} h` : `${h} h ${m % 60} min`;
}

/** A pin shortened for tables: "sha256/AbCdEfGh…" (the full pin is in the title attribute). */
export function shortPin(pin: string): string {
  const body = pin.startsWith('sha256/') ? pin.slice(7) : pin;
  return `sha256/${body.slice(0, 10)}${body.length > 10 ? '…' : ''}`;
}

export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}
