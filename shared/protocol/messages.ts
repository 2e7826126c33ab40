import { type CborValue, decodeCbor, encodeCanonical, isCanonical, isMap } from '../cbor/canonical';
import { isReceiptCode, type ReceiptCode } from '../errors';
import { PIN_BYTES } from '../pins/pin';
import { err, ok, type Result } from '../result';

/** hello, ack and report are small; anything larger is refused before decoding. */
export const MAX_MESSAGE_BYTES = 4096;

export interface Hello {
  readonly firmware: string;
  readonly deviceClass: string;
  readonly fleet: string;
  readonly installedSeq: number;
  readonly keysetVersion: number;
  /** SHA-256 of the installed envelope; 32 zero bytes stand for "nothing installed yet". */
  readonly installedSha256: Uint8Array;
}

export const ACK_STATUSES = ['applied', 'verified', 'rejected'] as const;
export type AckStatus = (typeof ACK_STATUSES)[number];
export interface Ack {
  readonly seq: number;
  readonly sha256: Uint8Array;
  readonly status: AckStatus;
  readonly code?: ReceiptCode;
}

export const REPORT_RESULTS = ['ok', 'mismatch', 'fail-open'] as const;
export type ReportResult = (typeof REPORT_RESULTS)[number];
export interface Report {
  readonly host: string;
  readonly port: number;
  readonly result: ReportResult;
  readonly servedPins: readonly Uint8Array[];
  readonly installedSeq: number;
  /** unix seconds */
  readonly time: number;
}

export type MessageErrorCode = 'E_SIZE' | 'E_CBOR' | 'E_NONCANONICAL' | 'E_SCHEMA';
export interface MessageError {
  readonly code: MessageErrorCode;
  readonly detail: string;
}

type Fields = ReadonlyMap<CborValue, CborValue>;

/** Decodes a SPEC §6 message: size, well-formed CBOR, deterministic, a map with exactly the allowed keys. */
function decodeMessage(bytes: Uint8Array, required: readonly number[], optional: readonly number[]): Result<Fields, MessageError> {
  if (!(bytes instanceof Uint8Array)) return err({ code: 'E_CBOR', detail: 'message is not bytes' });
  if (bytes.length > MAX_MESSAGE_BYTES) return err({ code: 'E_SIZE', detail: `message is ${bytes.length} bytes; at most ${MAX_MESSAGE_BYTES}` });
  const d = decodeCbor(bytes);
  if (!d.ok) return err({ code: 'E_CBOR', detail: d.error });
  if (!isMap(d.value)) return err({ code: 'E_SCHEMA', detail: 'message must be a CBOR map' });
  if (!isCanonical(bytes, d.value)) return err({ code: 'E_NONCANONICAL', detail: 'message is not deterministic CBOR' });
  for (const k of d.value.keys()) {
    if (typeof k !== 'number' || (!required.includes(k) && !optional.includes(k))) {
      return err({ code: 'E_SCHEMA', detail: `unknown key ${String(k)}` });
    }
  }
  for (const k of required) if (!d.value.has(k)) return err({ code: 'E_SCHEMA', detail: `missing key ${k}` });
  return ok(d.value);
}

const schema = (detail: string): Result<never, MessageError> => err({ code: 'E_SCHEMA', detail });
const isUint = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const isText = (v: unknown, max = 256): v is string => typeof v === 'string' && v.length > 0 && v.length <= max;
const isHash = (v: unknown): v is Uint8Array => v instanceof Uint8Array && v.length === 32;

export function encodeHello(h: Hello): Uint8Array {
  return encodeCanonical(new Map<CborValue, CborValue>([
    [1, h.firmware], [2, h.deviceClass], [3, h.fleet], [4, h.installedSeq], [5, h.keysetVersion], [6, h.installedSha256],
  ]));
}

export function decodeHello(bytes: Uint8Array): Result<Hello, MessageError> {
  const m = decodeMessage(bytes, [1, 2, 3, 4, 5, 6], []);
  if (!m.ok) return m;
  const [firmware, deviceClass, fleet, seq, ks, sha] = [1, 2, 3, 4, 5, 6].map((k) => m.value.get(k));
  if (!isText(firmware)) return schema('hello.firmware must be a text string of 1..256 characters');
  if (!isText(deviceClass, 128)) return schema('hello.deviceClass must be a text string of 1..128 characters');
  if (!isText(fleet, 128)) return schema('hello.fleet must be a text string of 1..128 characters');
  if (!isUint(seq)) return schema('hello.installedSeq must be an unsigned integer');
  if (!isUint(ks)) return schema('hello.keysetVersion must be an unsigned integer');
  if (!isHash(sha)) return schema('hello.installedSha256 must be 32 bytes');
  return ok({ firmware, deviceClass, fleet, installedSeq: seq, keysetVersion: ks, installedSha256: sha });
}

export function encodeAck(a: Ack): Uint8Array {
  const m = new Map<CborValue, CborValue>([[1, a.seq], [2, a.sha256], [3, a.status]]);
  if (a.code !== undefined) m.set(4, a.code);
  return encodeCanonical(m);
}

export function decodeAck(bytes: Uint8Array): Result<Ack, MessageError> {
  const m = decodeMessage(bytes, [1, 2, 3], [4]);
  if (!m.ok) return m;
  const [seq, sha, status, code] = [1, 2, 3, 4].map((k) => m.value.get(k));
  if (!isUint(seq)) return schema('ack.seq must be an unsigned integer');
  if (!isHash(sha)) return schema('ack.sha256 must be 32 bytes');
  if (!(ACK_STATUSES as readonly unknown[]).includes(status)) return schema(`ack.status must be one of ${ACK_STATUSES.join(', ')}`);
  if (status === 'rejected' && !isReceiptCode(code)) return schema('a rejected ack carries an error code of SPEC §4');
  if (status !== 'rejected' && code !== undefined) return schema('only a rejected ack carries an error code');
  return ok({ seq, sha256: sha, status: status as AckStatus, ...(isReceiptCode(code) ? { code } : {}) });
}

export function encodeReport(r: Report): Uint8Array {
  return encodeCanonical(new Map<CborValue, CborValue>([
    [1, r.host], [2, r.port], [3, r.result], [4, [...r.servedPins]], [5, r.installedSeq], [6, r.time],
  ]));
}

export function decodeReport(bytes: Uint8Array): Result<Report, MessageError> {
  const m = decodeMessage(bytes, [1, 2, 3, 4, 5, 6], []);
  if (!m.ok) return m;
  const [host, port, result, pins, seq, time] = [1, 2, 3, 4, 5, 6].map((k) => m.value.get(k));
  if (!isText(host, 253)) return schema('report.host must be a host name');
  if (!isUint(port) || port < 1 || port > 65535) return schema('report.port must be 1..65535');
  if (!(REPORT_RESULTS as readonly unknown[]).includes(result)) return schema(`report.result must be one of ${REPORT_RESULTS.join(', ')}`);
  if (!Array.isArray(pins) || pins.length > 16 || !pins.every((p) => p instanceof Uint8Array && p.length === PIN_BYTES)) {
    return schema('report.servedPins must be at most 16 pins of 32 bytes');
  }
  if (!isUint(seq)) return schema('report.installedSeq must be an unsigned integer');
  if (!isUint(time)) return schema('report.time must be unix seconds');
  return ok({ host, port, result: result as ReportResult, servedPins: pins as Uint8Array[], installedSeq: seq, time });
}
