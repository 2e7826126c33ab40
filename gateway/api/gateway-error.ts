import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { ReceiptCode } from '../../shared/index';
import { DomainError, type DomainErrorCode } from '../errors/domain-error';

/** Codes only the HTTP layer raises (the request itself is wrong, or who sent it may not). */
export type HttpOnlyCode =
  | 'E_BAD_JSON'
  | 'E_BAD_QUERY'
  | 'E_UNAUTHORIZED'
  | 'E_FORBIDDEN'
  | 'E_TOO_LARGE' // a request body over the route's cap (refused before it is buffered)
  | 'E_ABORTED' // the client went away mid-request (nobody reads the answer; logged at INFO)
  | 'E_INTERNAL';
export type ApiErrorCode = DomainErrorCode | HttpOnlyCode;

/** SPEC §4 codes of an envelope that is not even a well-formed pin set: a bad body; the others are refusals. */
const RECEIPT_STATUS: { [K in ReceiptCode]: ContentfulStatusCode } = {
  E_SIZE: 400, E_CBOR: 400, E_NOT_COSE: 400, E_NONCANONICAL: 400, E_SCHEMA: 400,
  E_ALG: 422, E_KID: 422, E_SIG: 422, E_TARGET: 422, E_KEYSET: 422, E_ROLLBACK: 422, E_NOT_YET: 422,
  E_EXPIRED: 422, E_WOULD_BRICK: 422, E_STORAGE: 422,
};

/** Every code's status, exhaustive: a new code does not compile until it has one. */
const STATUS: { [K in ApiErrorCode]: ContentfulStatusCode } = {
  ...RECEIPT_STATUS,
  E_BAD_JSON: 400, E_BAD_QUERY: 400, E_BAD_BODY: 400, E_KEYSET_MISMATCH: 400,
  E_UNAUTHORIZED: 401, E_FORBIDDEN: 403, E_NOT_FOUND: 404,
  E_CONFLICT: 409, E_SEQ: 409, E_TRANSITION: 409, E_NO_SIGNER: 409,
  E_GATE_NOT_MET: 422, E_REMOVES_SIGNER: 422, E_NOT_KILL_SET: 422, E_PLAN_STEP: 409,
  E_NOT_LEADER: 503, // no replica leads rollouts right now (a takeover is under way): retry in a few seconds
  E_TOO_LARGE: 413,
  E_ABORTED: 400,
  E_INTERNAL: 500,
};

export function statusOf(code: ApiErrorCode): ContentfulStatusCode {
  return STATUS[code];
}

/**
 * The one error type of the API: a stable code (`E_…`), its status from the table above, a message, optionally
 * details for the answer (e.g. the live check of a refused pin set). app.onError turns it, and any DomainError,
 * into `{"error": {"code", "message", ...details}}`.
 */
export class GatewayError extends Error {
  readonly status: ContentfulStatusCode;

  constructor(
    readonly code: ApiErrorCode,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'GatewayError';
    this.status = statusOf(code);
  }

  static notFound(what: string): GatewayError {
    return new GatewayError('E_NOT_FOUND', `${what} not found`);
  }

  /** The HTTP form of an error raised by domain code. */
  static fromDomain(e: DomainError): GatewayError {
    return new GatewayError(e.code, e.message, e.details);
  }
}

export { DomainError };
