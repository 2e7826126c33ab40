import { Decoder, Encoder, Tag } from 'cbor-x';
import { compareBytes, plainBytes } from '../bytes';
import { err, ok, type Result } from '../result';

/**
 * The CBOR data model we use: no floats, no tags other than the COSE_Sign1 tag at the top of an envelope.
 * Maps are JS `Map`s (integer keys stay integers).
 */
export type CborValue =
  | number
  | bigint
  | string
  | boolean
  | null
  | Uint8Array
  | readonly CborValue[]
  | ReadonlyMap<CborValue, CborValue>
  | CborTag;

export interface CborTag {
  readonly tag: number;
  readonly value: CborValue;
}

// docs/library-notes.md: cbor-x's default encoder writes records, tag 64, tag 259 and fixed-size maps.
// This configuration writes plain CBOR; key order is ours to give (it never sorts).
// (`useTag259ForMaps` is read by cbor-x at run time but missing from its typings.)
const encoder = new Encoder({
  useRecords: false,
  mapsAsObjects: false,
  useTag259ForMaps: false,
  tagUint8Array: false,
  variableMapSize: true,
} as ConstructorParameters<typeof Encoder>[0]);
const decoder = new Decoder({ useRecords: false, mapsAsObjects: false });

const UINT32_MAX = 0xffff_ffff;

export class CanonicalEncodeError extends TypeError {
  override readonly name = 'CanonicalEncodeError';
}

/**
 * Deterministic encoding (RFC 8949 §4.2.1): shortest integer heads, definite lengths, map keys sorted by the
 * bytewise order of their own deterministic encodings, no duplicate keys. Floats are refused: SPEC §2 has none.
 * Throws CanonicalEncodeError naming the offending value for anything outside the data model (misuse).
 */
export function encodeCanonical(value: CborValue): Uint8Array {
  return plainBytes(encoder.encode(prepare(value, 'value')));
}

function prepare(v: CborValue, path: string): unknown {
  if (typeof v === 'number') {
    if (!Number.isSafeInteger(v)) throw new CanonicalEncodeError(`${path}: ${v} is not a safe integer (no floats)`);
    // cbor-x writes numbers above 2^32 as float64; a bigint gets the 8-byte head, which is the shortest
    // form for |v| > 2^32-1 (RFC 8949 §4.2.1 preferred serialisation of integers).
    if (v > UINT32_MAX || v < -UINT32_MAX - 1) return BigInt(v);
    return v;
  }
  if (typeof v === 'bigint') {
    if (v > BigInt(UINT32_MAX) || v < -BigInt(UINT32_MAX) - 1n) return v;
    return Number(v);
  }
  if (typeof v === 'string' || typeof v === 'boolean' || v === null) return v;
  if (v instanceof Uint8Array) return v;
  if (Array.isArray(v)) return (v as readonly CborValue[]).map((x, i) => prepare(x, `${path}[${i}]`));
  if (v instanceof Map) {
    const m = v as ReadonlyMap<CborValue, CborValue>;
    // Fast path: unsigned integer keys (all of SPEC §2 and §6). Their encodings sort bytewise exactly as the
    // numbers sort, since a longer head always means a larger value (RFC 8949 §4.2.1).
    let allUint = true;
    for (const k of m.keys()) if (typeof k !== 'number' || !Number.isSafeInteger(k) || k < 0) allUint = false;
    if (allUint) {
      const keys = [...m.keys()] as number[];
      keys.sort((a, b) => a - b);
      return new Map(keys.map((k) => [prepare(k, `${path} key`), prepare(m.get(k) as CborValue, `${path}.${k}`)]));
    }
    const entries: Array<[Uint8Array, unknown, unknown]> = [];
    for (const [k, x] of m) {
      const key = prepare(k, `${path} key`);
      entries.push([plainBytes(encoder.encode(key)), key, prepare(x, `${path}.${String(k)}`)]);
    }
    entries.sort((a, b) => compareBytes(a[0], b[0]));
    for (let i = 1; i < entries.length; i++) {
      if (compareBytes(entries[i - 1]![0], entries[i]![0]) === 0) {
        throw new CanonicalEncodeError(`${path}: duplicate map key`);
      }
    }
    return new Map(entries.map(([, k, x]) => [k, x]));
  }
  if (isTag(v)) return new Tag(prepare(v.value, `${path}<tag ${v.tag}>`), v.tag);
  throw new CanonicalEncodeError(`${path}: ${typeof v} is outside the CBOR data model used here`);
}

function isTag(v: unknown): v is CborTag {
  return typeof v === 'object' && v !== null && typeof (v as CborTag).tag === 'number' && 'value' in v;
}

/**
 * Decodes one complete CBOR item. Never throws: untrusted bytes return `E_CBOR` when they are not well-formed
 * or when bytes trail the item (SPEC §4). The result is normalised to CborValue: bigints that fit a safe
 * integer become numbers, Buffers become plain Uint8Arrays, cbor-x Tags become CborTag.
 * Leniency (duplicate keys, long integer heads, indefinite lengths) is caught by `isCanonical`.
 */
export function decodeCbor(bytes: Uint8Array): Result<CborValue, string> {
  let raw: unknown;
  try {
    raw = decoder.decode(bytes);
  } catch (e) {
    return err(e instanceof Error ? e.message : String(e));
  }
  const normalised = normalise(raw, 0);
  return normalised === undefined ? err(`nesting deeper than ${MAX_DEPTH} levels`) : ok(normalised);
}

/**
 * Stands for a well-formed item that cbor-x turns into something outside our data model (a Date from tag 1,
 * a Set, undefined, NaN…). It is a tag, so shape checks refuse it and `isCanonical` never accepts it.
 */
export const UNREPRESENTABLE: CborTag = Object.freeze({ tag: -1, value: null });

const MAX_DEPTH = 32;

function normalise(v: unknown, depth: number): CborValue | undefined {
  if (depth > MAX_DEPTH) return undefined;
  if (typeof v === 'number') return Number.isFinite(v) ? v : UNREPRESENTABLE;
  if (typeof v === 'bigint') return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
  if (typeof v === 'string' || typeof v === 'boolean' || v === null) return v;
  if (v instanceof Uint8Array) return plainBytes(v);
  if (Array.isArray(v)) {
    const out: CborValue[] = [];
    for (const x of v) {
      const n = normalise(x, depth + 1);
      if (n === undefined) return undefined;
      out.push(n);
    }
    return out;
  }
  if (v instanceof Map) {
    const out = new Map<CborValue, CborValue>();
    for (const [k, x] of v) {
      const nk = normalise(k, depth + 1);
      const nx = normalise(x, depth + 1);
      if (nk === undefined || nx === undefined) return undefined;
      out.set(nk, nx);
    }
    return out;
  }
  if (v instanceof Tag) {
    const inner = normalise(v.value, depth + 1);
    return inner === undefined ? undefined : { tag: v.tag, value: inner };
  }
  return UNREPRESENTABLE;
}

/**
 * Canonical form is checked by re-encoding and comparing bytes (docs/library-notes.md: the cbor-x decoder is
 * lenient). Anything a deterministic encoder would not have written — unsorted or duplicate keys, long
 * heads, indefinite lengths, floats, tags — makes the bytes differ.
 */
export function isCanonical(bytes: Uint8Array, decoded: CborValue): boolean {
  if (containsTag(decoded)) return false; // SPEC §2: no tags inside a document
  let again: Uint8Array;
  try {
    again = encodeCanonical(decoded);
  } catch {
    return false;
  }
  return again.length === bytes.length && compareBytes(again, bytes) === 0;
}

function containsTag(v: CborValue): boolean {
  if (Array.isArray(v)) return (v as readonly CborValue[]).some(containsTag);
  if (v instanceof Map) {
    for (const [k, x] of v as ReadonlyMap<CborValue, CborValue>) if (containsTag(k) || containsTag(x)) return true;
    return false;
  }
  return isTag(v);
}

/** Narrowing helpers for decoded values. */
export const isMap = (v: unknown): v is ReadonlyMap<CborValue, CborValue> => v instanceof Map;
export const isUint = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
