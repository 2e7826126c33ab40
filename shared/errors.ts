/**
 * SPEC §4: the closed set of receipt error codes, in the order the checks run.
 * A device reports exactly one of these in a "rejected" ack.
 */
export const RECEIPT_CODES = [
  'E_SIZE',
  'E_CBOR',
  'E_NOT_COSE',
  'E_ALG',
  'E_KID',
  'E_SIG',
  'E_NONCANONICAL',
  'E_SCHEMA',
  'E_TARGET',
  'E_KEYSET',
  'E_ROLLBACK',
  'E_NOT_YET',
  'E_EXPIRED',
  'E_WOULD_BRICK',
  'E_STORAGE',
] as const;

export type ReceiptCode = (typeof RECEIPT_CODES)[number];

export function isReceiptCode(v: unknown): v is ReceiptCode {
  return typeof v === 'string' && (RECEIPT_CODES as readonly string[]).includes(v);
}

/** A failed check: the code from the closed set, and a sentence for people. */
export interface Rejection {
  readonly code: ReceiptCode;
  readonly detail: string;
}

/** SPEC §3: an envelope is at most 16,384 bytes. */
export const MAX_ENVELOPE_BYTES = 16_384;

/** SPEC §4: a set issued more than 300 s ahead of the device clock is refused (E_NOT_YET); SPEC §5 keysets alike. */
export const MAX_CLOCK_SKEW_SECONDS = 300;
