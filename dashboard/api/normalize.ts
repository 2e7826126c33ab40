/**
 * The older answers (fleets, coverage, readiness, telemetry, reports, audit, identity) into the dashboard's view
 * types; rollouts and devices are parsed with the API contract instead (rollout-view.ts, device-view.ts), and the
 * rest should follow (docs/decisions-dashboard.md). Tolerant on purpose: a missing
 * optional field shows as "—" instead of breaking a page, and a few spellings are accepted (e.g. `id` or
 * `deviceId`). Times: numbers below 1e12 are taken as unix seconds and converted to milliseconds.
 */
import {
  ROLES,
  type AuditEntry,
  type Fleet,
  type Identity,
  type Report,
  type Role,
  type TelemetryPoint,
} from './api-types';

export type Obj = Record<string, unknown>;

export const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
export const obj = (v: unknown): Obj => (isObj(v) ? v : {});

export function str(v: unknown): string | null {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  return null;
}

export function num(v: unknown): number | null {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v);
  return null;
}

export function bool(v: unknown): boolean | null {
  if (typeof v === 'boolean') return v;
  if (v === 1 || v === 'true') return true;
  if (v === 0 || v === 'false') return false;
  return null;
}

/** First non-null value among the given keys. */
export function pick<T>(o: Obj, keys: readonly string[], conv: (v: unknown) => T | null): T | null {
  for (const k of keys) {
    const v = conv(o[k]);
    if (v !== null) return v;
  }
  return null;
}

export function time(v: unknown): number | null {
  if (typeof v === 'string' && !/^\d+(\.\d+)?$/.test(v)) {
    const t = Date.parse(v);
    return Number.isNaN(t) ? null : t;
  }
  const n = num(v);
  if (n === null) return null;
  return n < 1e12 ? n * 1000 : n;
}

export function strings(v: unknown): string[] {
  return Array.isArray(v) ? v.map(str).filter((s): s is string => s !== null) : [];
}

/** A list answer: either an array or `{items: [...]}`. */
export function list(v: unknown): unknown[] {
  if (Array.isArray(v)) return v;
  const o = obj(v);
  if (Array.isArray(o['items'])) return o['items'];
  return [];
}

export function cursorOf(v: unknown): string | null {
  return isObj(v) ? str(v['nextCursor']) : null;
}

export function toIdentity(v: unknown): Identity | null {
  const o = obj(v);
  const role = str(o['role']);
  if (role === null || !(ROLES as readonly string[]).includes(role)) return null;
  return { name: str(o['name']) ?? '', role: role as Role };
}

export function toFleet(v: unknown): Fleet {
  const o = obj(v);
  return {
    fleet: pick(o, ['fleet', 'name', 'id'], str) ?? '?',
    devices: num(o['devices']) ?? 0,
    online: num(o['online']) ?? 0,
    latestSeq: pick(o, ['latestSeq', 'seq'], num),
  };
}

/**
 * Coverage percent, exact from verified/total when the API gives both (its `percent` is rounded for display, and a
 * rounded 95.00 must not be shown as reaching a 95 % target that the exact ratio misses), else the API's percent.
 */
export function toTelemetry(v: unknown): TelemetryPoint {
  const o = obj(v);
  return {
    t: time(o['t']) ?? 0,
    ok: num(o['ok']) ?? 0,
    mismatch: num(o['mismatch']) ?? 0,
    failOpen: pick(o, ['failOpen', 'fail-open', 'failopen'], num) ?? 0,
  };
}

export function toReport(v: unknown): Report {
  const o = obj(v);
  return {
    deviceId: pick(o, ['deviceId', 'device'], str) ?? '?',
    host: str(o['host']) ?? '',
    port: num(o['port']) ?? 0,
    result: str(o['result']) ?? '',
    servedPins: strings(o['servedPins']),
    installedSeq: num(o['installedSeq']),
    at: pick(o, ['receivedAt', 'at', 'time', 'deviceTime'], time),
  };
}

export function toAudit(v: unknown, i: number): AuditEntry {
  const o = obj(v);
  const detail = o['detail'];
  return {
    id: str(o['id']) ?? String(i),
    at: time(o['at']),
    actor: str(o['actor']) ?? '',
    action: str(o['action']) ?? '',
    target: str(o['target']),
    detail: detail === undefined || detail === null ? null : typeof detail === 'string' ? detail : JSON.stringify(detail),
    data: isObj(detail) ? detail : null,
  };
}
