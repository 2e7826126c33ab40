/**
 * GET /api/security as the dashboard reads it (issue 17: the security page), over the operator's ApiClient
 * transport, parsed with the API contract's schema (api-contract/security.ts): an answer outside the contract is
 * the gateway's bug, reported as E_CONTRACT, never guessed at.
 */
import * as contract from '../../api-contract/index';
import type { ApiClient } from './api-client';

export type SecurityReport = contract.SecurityReport;

export async function fetchSecurity(api: ApiClient, limit = 20): Promise<SecurityReport> {
  return api.typed(contract.security.security, `/api/security?limit=${limit}`);
}
