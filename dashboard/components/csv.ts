/**
 * CSV export (RFC 4180): every field quoted, quotes doubled, CRLF line ends. A field that a spreadsheet would run
 * as a formula (starts with = + - @, tab or CR) gets a leading apostrophe (OWASP "CSV injection"): device ids
 * and firmware strings come from devices.
 */
export function csvField(v: unknown): string {
  let s = v === null || v === undefined ? '' : String(v);
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return `"${s.replace(/"/g, '""')}"`;
}

export function toCsv(head: readonly string[], rows: readonly (readonly unknown[])[]): string {
  return [head, ...rows].map((r) => r.map(csvField).join(',')).join('\r\n') + '\r\n';
}

/** Rows fetched at most for one export (pages of the API's cursor); beyond it the file says it is cut. */
export const EXPORT_MAX_ROWS = 100_000;
