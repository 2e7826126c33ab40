/**
 * Thin typed client over the gateway's JSON API (docs/api.md). `GatewayApi` knows how to reach the API (a fetch
 * function: the gateway's own `app.fetch` in-process, or a real HTTP fetch to a URL); `forToken` binds the
 * operator's bearer token from the session. Every answer is parsed with its schema from the API contract
 * (api-contract/, the schemas the gateway declares on its routes); nothing is guessed (issue 15).
 */
import type {
  AuditEntry,
  CoverageRow,
  DeviceDetail,
  DeviceQuery,
  DevicePage,
  Execution,
  Fleet,
  Identity,
  Page,
  PinSetSummary,
  Readiness,
  Rotation,
  Report,
  Rollout,
  RolloutAction,
  TelemetryPoint,
} from './api-types';
import { toRolloutView } from './rollout-view';
import { toDeviceDetailView, toDeviceView } from './device-view';

import type { z } from 'zod';
import * as contract from '../../api-contract/index';

export type FetchLike = (req: Request) => Promise<Response>;

export interface GatewayApiOptions {
  readonly fetch: FetchLike;
  /** Where the API lives; only the origin and any path prefix matter for an in-process fetch. */
  readonly baseUrl?: string;
}

/** A non-2xx answer of the API, with its `{"error":{"code","message"}}` body. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

type Query = Record<string, string | number | undefined>;

export class GatewayApi {
  readonly #fetch: FetchLike;
  readonly #base: string;

  constructor(options: GatewayApiOptions) {
    this.#fetch = options.fetch;
    this.#base = (options.baseUrl ?? 'http://gateway.internal').replace(/\/+$/, '');
  }

  forToken(token: string): ApiClient {
    return new ApiClient((path, init) => this.#send(token, path, init));
  }

  /**
   * Who a token is (GET /api/whoami, parsed with the contract), or null when the API refuses it (401). Any other
   * failure is thrown: the log-in page shows it rather than guessing a role.
   */
  async identify(token: string): Promise<Identity | null> {
    const who = await this.forToken(token).whoami().catch((err: unknown) => {
      if (err instanceof ApiError && err.status === 401) return null;
      throw err;
    });
    // a token always has a name and a role on /api/whoami (it needs the viewer role); null ones are not a log-in
    return who === null || who.name === null || who.role === null ? null : { name: who.name, role: who.role };
  }

  async #send(token: string, path: string, init: { method: string; body?: string; signal?: AbortSignal }) {
    const headers = new Headers({ authorization: `Bearer ${token}`, accept: 'application/json' });
    if (init.body !== undefined) headers.set('content-type', 'application/json');
    const req = new Request(this.#base + path, {
      method: init.method,
      headers,
      ...(init.body !== undefined ? { body: init.body } : {}),
      ...(init.signal !== undefined ? { signal: init.signal } : {}),
    });
    return this.#fetch(req);
  }
}

/** A non-2xx answer as ApiError: its `{"error":{code,message}}` (contract `apiError`), or the HTTP status when it has none. */
async function toError(res: Response): Promise<ApiError> {
  const body = contract.common.apiError.safeParse(await res.json().catch(() => null));
  if (body.success) return new ApiError(res.status, body.data.error.code, body.data.error.message);
  return new ApiError(res.status, `HTTP_${res.status}`, res.statusText);
}

function qs(query: Query): string {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== '') p.set(k, String(v));
  const s = p.toString();
  return s === '' ? '' : `?${s}`;
}

const seg = encodeURIComponent;

type Send = (path: string, init: { method: string; body?: string; signal?: AbortSignal }) => Promise<Response>;

/** The API as one token sees it. Every method throws ApiError on a non-2xx answer. */
export class ApiClient {
  constructor(readonly send: Send) {}

  /**
   * An answer parsed with its schema from the API contract (gateway/api-contract, the same schemas the gateway
   * declares); an answer that does not match is the gateway's bug, reported as E_CONTRACT (502), never guessed at.
   */
  async typed<S extends z.ZodType>(schema: S, path: string, method = 'GET', body?: unknown): Promise<z.output<S>> {
    const parsed = schema.safeParse(await this.#json(path, method, body));
    if (parsed.success) return parsed.data;
    const issue = parsed.error.issues[0];
    throw new ApiError(502, 'E_CONTRACT', `${method} ${path} answered outside the API contract: ${issue?.path.join('.') ?? ''} ${issue?.message ?? ''}`);
  }

  async #json(path: string, method = 'GET', body?: unknown): Promise<unknown> {
    const res = await this.send(path, { method, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
    if (!res.ok) throw await toError(res);
    return res.json();
  }

  async whoami() {
    return this.typed(contract.common.whoami, '/api/whoami');
  }

  async fleets(): Promise<Fleet[]> {
    return this.typed(contract.common.fleets, '/api/fleets');
  }

  async coverage(fleet: string): Promise<CoverageRow[]> {
    return this.typed(contract.common.coverage, `/api/fleets/${seg(fleet)}/coverage`);
  }

  async readiness(fleet: string, q: { host: string; pin: string; target?: number; limit?: number; cursor?: string }) {
    const query: Query = { host: q.host, pin: q.pin, target: q.target, limit: q.limit, cursor: q.cursor };
    return this.typed(contract.common.readiness, `/api/fleets/${seg(fleet)}/rotation-readiness${qs(query)}`);
  }

  async devices(q: DeviceQuery): Promise<DevicePage> {
    const body = await this.typed(contract.devices.devicePage, `/api/devices${qs({ ...q })}`);
    return {
      items: body.items.map(toDeviceView),
      nextCursor: body.nextCursor,
      total: body.total ?? null,
      totalCapped: body.totalCapped === true,
      nextOffset: body.nextOffset ?? null,
      prevOffset: body.prevOffset ?? null,
    };
  }

  async device(id: string): Promise<DeviceDetail> {
    return toDeviceDetailView(await this.typed(contract.devices.deviceDetail, `/api/devices/${seg(id)}`));
  }

  async rollouts(q: { fleet?: string; state?: string } = {}): Promise<Rollout[]> {
    return (await this.typed(contract.rollouts.rollouts, `/api/rollouts${qs(q)}`)).map(toRolloutView);
  }

  async rollout(id: string): Promise<Rollout> {
    return toRolloutView(await this.typed(contract.rollouts.rollout, `/api/rollouts/${seg(id)}`));
  }

  /** A rollout's devices with their execution state (filtered by states and wave), paged by device id. */
  async executions(id: string, q: { state?: string; wave?: number; limit?: number; cursor?: string }): Promise<Page<Execution>> {
    const body = await this.typed(contract.rollouts.executionPage, `/api/rollouts/${seg(id)}/executions${qs(q)}`);
    const items = body.items.map((e): Execution => {
      // the time that matters for each state: when it is due again, was delivered, applied, or ended
      const at = e.kind === 'QUEUED' ? e.nextAttemptAt : e.kind === 'DELIVERED' ? e.deliveredAt : e.kind === 'APPLIED' ? e.appliedAt : e.at;
      const code = e.kind === 'REJECTED' ? e.code : null;
      return { deviceId: e.deviceId, wave: e.wave, kind: e.kind, attempts: e.attempts, code, phase: e.kind === 'TIMED_OUT' ? e.phase : null, at };
    });
    return { items, nextCursor: body.nextCursor };
  }

  async rolloutAction(id: string, action: RolloutAction, reason?: string): Promise<Rollout> {
    const body = reason !== undefined && reason !== '' ? { reason } : {};
    return toRolloutView(await this.typed(contract.rollouts.rollout, `/api/rollouts/${seg(id)}/${action}`, 'POST', body));
  }

  async rotations(q: { fleet?: string; host?: string; limit?: number }): Promise<Rotation[]> {
    return this.typed(contract.common.rotations, `/api/rotations${qs(q)}`);
  }

  /** POST /api/rotations: 422 E_GATE_NOT_MET unless ready, or forced with a reason. */
  async recordRotation(body: { fleet: string; host: string; pin: string; target?: number; force?: boolean; reason?: string }) {
    return this.typed(contract.common.rotationRecorded, '/api/rotations', 'POST', body);
  }

  async pinsets(fleet?: string): Promise<PinSetSummary[]> {
    return (await this.typed(contract.pinsets.pinsets, `/api/pinsets${qs({ fleet })}`)).map(
      (p): PinSetSummary => ({ ...p, hosts: p.pinset.hosts.map((h) => ({ name: h.name, pins: h.pins, enforce: h.enforce })) }),
    );
  }

  /** POST /api/pinsets (JSON draft, signed by the gateway) or /api/pinsets/envelope (signed offline, base64). */
  async publishPinSet(kind: 'json' | 'envelope', body: unknown) {
    return this.typed(contract.pinsets.published, kind === 'json' ? '/api/pinsets' : '/api/pinsets/envelope', 'POST', body);
  }

  async createRollout(body: unknown): Promise<Rollout> {
    return toRolloutView(await this.typed(contract.rollouts.rollout, '/api/rollouts', 'POST', body));
  }

  /** Decommission (reason required) or recommission a device. */
  async deviceDecommission(id: string, retire: boolean, reason: string): Promise<void> {
    await this.typed(contract.operations.decommissioned, `/api/devices/${seg(id)}/${retire ? 'decommission' : 'recommission'}`, 'POST', retire || reason !== '' ? { reason } : {});
  }

  async telemetry(q: { fleet?: string; host?: string; bucketSeconds?: number; since?: number }): Promise<TelemetryPoint[]> {
    return this.typed(contract.common.telemetry, `/api/telemetry${qs(q)}`);
  }

  async reports(q: { fleet?: string; host?: string; limit?: number }): Promise<Report[]> {
    return this.typed(contract.common.reports, `/api/reports${qs(q)}`);
  }

  async audit(q: { limit?: number; cursor?: string; actor?: string; action?: string; target?: string }): Promise<Page<AuditEntry>> {
    return this.typed(contract.common.auditPage, `/api/audit${qs(q)}`);
  }

  /** GET /api/events as a raw SSE response, or null when the gateway has no event stream (404/405/501). */
  async events(signal: AbortSignal): Promise<Response | null> {
    const res = await this.send('/api/events', { method: 'GET', signal });
    if (res.status === 404 || res.status === 405 || res.status === 501) {
      await res.body?.cancel();
      return null;
    }
    if (!res.ok) throw await toError(res);
    return res;
  }
}
