import { type CborValue, encodeCanonical, isMap } from '../cbor/canonical';
import { err, ok, type Result } from '../result';
import type { HostPins, PinSet, PinSetTarget } from './model';
import { validatePinSet } from './validate';

type CborMap = ReadonlyMap<CborValue, CborValue>;

/** SPEC §2 model → CBOR map with integer keys (order does not matter: the encoder sorts). */
export function pinSetToCbor(p: PinSet): Map<CborValue, CborValue> {
  const target = new Map<CborValue, CborValue>([[1, p.target.fleet]]);
  if (p.target.deviceClasses !== undefined) target.set(2, [...p.target.deviceClasses]);
  if (p.target.deviceIds !== undefined) target.set(3, [...p.target.deviceIds]);
  const hosts = p.hosts.map((h) => {
    const m = new Map<CborValue, CborValue>([
      [1, h.name],
      [2, h.includeSubdomains],
      [3, [...h.pins]],
      [4, h.enforce],
    ]);
    if (h.port !== undefined) m.set(5, h.port);
    return m;
  });
  const m = new Map<CborValue, CborValue>([
    [1, p.format],
    [2, p.seq],
    [3, p.issuedAt],
    [4, p.notAfter],
    [5, target],
    [6, hosts],
    [7, p.keysetVersion],
  ]);
  if (p.failOpenAfter !== undefined) m.set(8, p.failOpenAfter);
  return m;
}

/** Deterministic CBOR of a valid pin set. Misuse (an invalid set) throws a TypeError listing the problems. */
export function encodePinSet(p: PinSet): Uint8Array {
  const problems = validatePinSet(p);
  if (problems.length > 0) throw new TypeError(`encodePinSet: "pinset" breaks SPEC §2: ${problems.join('; ')}`);
  return encodeCanonical(pinSetToCbor(p));
}

class SchemaError extends Error {}

function fail(msg: string): never {
  throw new SchemaError(msg);
}

/** Unknown keys are an error in format 1 (SPEC §2). */
function onlyKeys(m: CborMap, allowed: readonly number[], where: string): void {
  for (const k of m.keys()) if (typeof k !== 'number' || !allowed.includes(k)) fail(`${where}: unknown key ${String(k)}`);
}

function field(m: CborMap, key: number, where: string): CborValue {
  if (!m.has(key)) fail(`${where}: missing key ${key}`);
  return m.get(key) as CborValue;
}

const uint = (v: CborValue, where: string): number =>
  typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? v : fail(`${where} must be an unsigned integer`);
const text = (v: CborValue, where: string): string => (typeof v === 'string' ? v : fail(`${where} must be a text string`));
const bool = (v: CborValue, where: string): boolean => (typeof v === 'boolean' ? v : fail(`${where} must be a boolean`));
const map = (v: CborValue, where: string): CborMap => (isMap(v) ? v : fail(`${where} must be a map`));
const list = (v: CborValue, where: string): readonly CborValue[] => (Array.isArray(v) ? (v as readonly CborValue[]) : fail(`${where} must be an array`));
const bytes = (v: CborValue, where: string): Uint8Array => (v instanceof Uint8Array ? v : fail(`${where} must be a byte string`));

function targetFrom(v: CborValue): PinSetTarget {
  const m = map(v, 'target');
  onlyKeys(m, [1, 2, 3], 'target');
  const fleet = text(field(m, 1, 'target'), 'target.fleet');
  const classes = m.has(2) ? list(m.get(2) as CborValue, 'target.deviceClasses').map((x) => text(x, 'target.deviceClasses[]')) : undefined;
  const ids = m.has(3) ? list(m.get(3) as CborValue, 'target.deviceIds').map((x) => text(x, 'target.deviceIds[]')) : undefined;
  return { fleet, ...(classes ? { deviceClasses: classes } : {}), ...(ids ? { deviceIds: ids } : {}) };
}

function hostFrom(v: CborValue, i: number): HostPins {
  const at = `hosts[${i}]`;
  const m = map(v, at);
  onlyKeys(m, [1, 2, 3, 4, 5], at);
  return {
    name: text(field(m, 1, at), `${at}.name`),
    includeSubdomains: bool(field(m, 2, at), `${at}.includeSubdomains`),
    pins: list(field(m, 3, at), `${at}.pins`).map((x) => bytes(x, `${at}.pins[]`)),
    enforce: bool(field(m, 4, at), `${at}.enforce`),
    ...(m.has(5) ? { port: uint(m.get(5) as CborValue, `${at}.port`) } : {}),
  };
}

/**
 * Decoded CBOR → typed pin set, with every SPEC §2 rule checked. Untrusted input: returns a result, never
 * throws. An error here is E_SCHEMA.
 */
export function pinSetFromCbor(v: CborValue): Result<PinSet, string> {
  let p: PinSet;
  try {
    const m = map(v, 'pin set');
    onlyKeys(m, [1, 2, 3, 4, 5, 6, 7, 8], 'pin set');
    const format = uint(field(m, 1, 'pin set'), 'format');
    if (format !== 1) return err(`format must be 1, got ${format}`);
    p = {
      format,
      seq: uint(field(m, 2, 'pin set'), 'seq'),
      issuedAt: uint(field(m, 3, 'pin set'), 'issuedAt'),
      notAfter: uint(field(m, 4, 'pin set'), 'notAfter'),
      target: targetFrom(field(m, 5, 'pin set')),
      hosts: list(field(m, 6, 'pin set'), 'hosts').map(hostFrom),
      keysetVersion: uint(field(m, 7, 'pin set'), 'keysetVersion'),
      ...(m.has(8) ? { failOpenAfter: uint(m.get(8) as CborValue, 'failOpenAfter') } : {}),
    };
  } catch (e) {
    if (e instanceof SchemaError) return err(e.message);
    throw e;
  }
  const problems = validatePinSet(p);
  return problems.length > 0 ? err(problems.join('; ')) : ok(p);
}
