/**
 * GET /api/security as the dashboard reads it (issue 17: the security page), over the operator's ApiClient
 * transport, parsed with the API contract's schema: an answer outside the contract is the gateway's bug, reported
 * as E_CONTRACT (502), never guessed at.
 */
import * as contract from '../../api-contract/index';
import { ApiError, type ApiClient } from './api-client';
import { obj, str } from './normalize';

export type SecurityReport = contract.SecurityReport;

export async function fetchSecurity(api: ApiClient, limit = 20): Promise<SecurityReport> {
  const path = `/api/security?limit=${limit}`;
  const res = await api.send(path, { method: 'GET' });
  if (!res.ok) {
    const err = obj(obj(await res.json().catch(() => null))['error']);
    throw new ApiError(res.status, str(err['code']) ?? `HTTP_${res.status}`, str(err['message']) ?? res.statusText);
  }
  const parsed = contract.security.security.safeParse(await res.json());
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  throw new ApiError(502, 'E_CONTRACT', `GET ${path} answered outside the API contract: ${issue?.path.join('.') ?? ''} ${issue?.message ?? ''}`);
}
