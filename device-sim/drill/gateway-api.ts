/**
 * The few gateway API calls the drill makes (docs/api.md), over HTTP with a bearer token, as an operator's
 * script would. Answers are typed by the API contract (api-contract/).
 */
import type { z } from 'zod';
import type { common, Readiness, Rollout } from '../../api-contract/index';

// The answers' types come from the API contract the gateway declares on its routes (api-contract/), never re-declared.
export type { Readiness };
export type RolloutView = Rollout;
export type ExecutionCounts = z.infer<typeof common.executionCounts>;

export interface PinSetCreated {
  id: number;
  seq: number;
  sha256: string;
  liveCheck: { host: string; status: string }[];
}

export class ApiError extends Error {
  constructor(readonly status: number, readonly body: unknown, what: string) {
    super(`${what}: HTTP ${status} ${JSON.stringify(body)}`);
  }
}

export class GatewayApi {
  constructor(readonly baseUrl: string, private readonly token: string) {}

  async call<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
    const res = await fetch(new URL(path, this.baseUrl), {
      method,
      headers: { authorization: `Bearer ${this.token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    const json: unknown = text.length > 0 ? JSON.parse(text) : null;
    if (!res.ok) throw new ApiError(res.status, json, `${method} ${path}`);
    return json as T;
  }

  keysets() {
    return this.call<{ version: number; publicKeys: string[] }[]>('GET', '/api/keysets');
  }

  createPinSet(draft: Record<string, unknown>) {
    return this.call<PinSetCreated>('POST', '/api/pinsets', draft);
  }

  async envelopeOf(pinsetId: number): Promise<string> {
    return (await this.call<{ envelope: string }>('GET', `/api/pinsets/${pinsetId}`)).envelope;
  }

  createRollout(body: Record<string, unknown>) {
    return this.call<RolloutView>('POST', '/api/rollouts', body);
  }

  rollout(id: string) {
    return this.call<RolloutView>('GET', `/api/rollouts/${encodeURIComponent(id)}`);
  }

  rolloutAction(id: string, action: 'start' | 'advance' | 'resume' | 'abort', reason?: string) {
    return this.call<RolloutView>('POST', `/api/rollouts/${encodeURIComponent(id)}/${action}`, reason !== undefined ? { reason } : {});
  }

  /** Every page of the at-risk list (limit 1000 per page). */
  async readiness(fleet: string, host: string, pin: string, target: number): Promise<Readiness> {
    const q = (cursor: string | null) =>
      `/api/fleets/${encodeURIComponent(fleet)}/rotation-readiness?${new URLSearchParams({
        host, pin, target: String(target), limit: '1000', ...(cursor !== null ? { cursor } : {}),
      })}`;
    const first = await this.call<Readiness>('GET', q(null));
    const devices = [...first.devices];
    for (let cursor = first.nextCursor; cursor !== null;) {
      const page = await this.call<Readiness>('GET', q(cursor));
      devices.push(...page.devices);
      cursor = page.nextCursor;
    }
    return { ...first, devices, nextCursor: null };
  }

  coverage(fleet: string) {
    return this.call<{ host: string; pin: string; verified: number; total: number; percent: number }[]>('GET', `/api/fleets/${encodeURIComponent(fleet)}/coverage`);
  }

  recordRotation(body: { fleet: string; host: string; pin: string; target: number; reason?: string }) {
    return this.call<{ id: number; recorded: boolean; forced: boolean; readiness: Omit<Readiness, 'devices' | 'nextCursor'> }>('POST', '/api/rotations', body);
  }

  async fleetOnline(fleet: string): Promise<{ devices: number; online: number }> {
    const f = (await this.call<{ fleet: string; devices: number; online: number }[]>('GET', '/api/fleets')).find((x) => x.fleet === fleet);
    return { devices: f?.devices ?? 0, online: f?.online ?? 0 };
  }

  reports(fleet: string, host: string) {
    return this.call<{ deviceId: string; result: string; servedPins: string[]; installedSeq: number }[]>(
      'GET', `/api/reports?${new URLSearchParams({ fleet, host, limit: '1000' })}`,
    );
  }
}
