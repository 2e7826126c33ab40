import type { ReceiptCode } from '../../shared/index';

/**
 * Codes of the errors that domain code (pin sets, keysets, rollouts, coverage) raises: a closed set. Only the HTTP
 * layer (../api/gateway-error.ts) maps them to statuses, in one exhaustive table, as hono keeps HTTPException at
 * the edge. The SPEC §4 receipt codes are part of it: an uploaded envelope is refused with the code a device
 * would give it.
 */
export const DOMAIN_ERROR_CODES = [
  'E_NOT_FOUND', // a pin set, rollout or device named in the request does not exist
  'E_BAD_BODY', // a request the domain cannot act on (e.g. a rollout plan that does not validate)
  'E_CONFLICT', // it exists already, or another one is in the way (same name, same pin set)
  'E_SEQ', // a newer seq already rolls out / a seq not above the fleet's latest (SPEC §2 "strictly increasing")
  'E_TRANSITION', // an operator action not allowed in the rollout's state (SPEC §7 state machine)
  'E_NO_SIGNER', // the gateway's signer key is not in the current keyset
  'E_KEYSET_MISMATCH', // the keys given differ from the ones in the signed keyset document
  'E_GATE_NOT_MET', // a rotation recorded before its coverage gate holds (SPEC §8)
  'E_NOT_KILL_SET', // an envelope uploaded as a kill switch is not the kill set of the host over the fleet's newest set
  'E_PLAN_STEP', // a guided-rotation step asked for out of order, or its gate does not hold yet
  'E_REMOVES_SIGNER', // a keyset rotation leaves out the gateway's or a backup signer without saying so (SPEC §5)
  'E_NOT_LEADER', // a leader-only write by a replica that no longer leads (fenced epoch), or no leader answered in time
] as const;

export type DomainErrorCode = (typeof DOMAIN_ERROR_CODES)[number] | ReceiptCode;

export class DomainError extends Error {
  constructor(
    readonly code: DomainErrorCode,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'DomainError';
  }

  static notFound(what: string): DomainError {
    return new DomainError('E_NOT_FOUND', `${what} not found`);
  }
}
