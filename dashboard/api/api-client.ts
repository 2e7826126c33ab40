/**
 * Thin typed client over the gateway's JSON API (docs/api.md). `GatewayApi` knows how to reach the API (a fetch
 * function: the gateway's own `app.fetch` in-process, or a real HTTP fetch to a URL); `forToken` binds the
 * operator's bearer token from the session. Answers are normalised into the dashboard's view types.
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
import {
  cursorOf,
  list,
  num,
  obj,
  str,
  toAudit,
  toFleet,
  toIdentity,
  toReport,
  toTelemetry,
} from './normalize';
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
   * Who a token is, or null when the API refuses it (401). Uses GET /api/whoami when the gateway has it;
   * otherwise checks the token with a viewer GET and learns whether it may act as an operator with a side-effect
   * free probe: an empty POST /api/devices (operator role; the gateway checks the role before the body), where
   * 403 = below operator and 400/422 (bad body) = operator or admin. Anything else counts as read-only: when in
   * doubt the dashboard hides buttons (the gateway enforces roles on every call anyway).
   */
  async identify(token: string): Promise<Identity | null> {
    const who = await this.#send(token, '/api/whoami', { method: 'GET' });
    if (who.status === 401) return null;
    if (who.ok) {
      const id = toIdentity(await who.json().catch(() => null));
      if (id !== null) return id;
    } else await who.body?.cancel();
    const check = await this.#send(token, '/api/fleets', { method: 'GET' });
    if (check.status === 401 || check.status === 403) return null;
    if (!check.ok) throw await toError(check);
    await check.body?.cancel();
    const probe = await this.#send(token, '/api/devices', { method: 'POST', body: '{}' });
    await probe.body?.cancel();
    return { name: '', role: probe.status === 400 || probe.status === 422 ? 'operator' : 'viewer' };
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

async function toError(res: Response): Promise<ApiError> {
  const body = obj(await res.json().catch(() => null));
  const err = obj(body['error']);
  return new ApiError(res.status, str(err['code']) ?? `HTTP_${res.status}`, str(err['message']) ?? res.statusText);
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
  async #typed<S extends z.ZodType>(schema: S, path: string, method = 'GET', body?: unknown): Promise<z.output<S>> {
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

  async fleets(): Promise<Fleet[]> {
    return list(await this.#json('/api/fleets')).map(toFleet);
  }

  async coverage(fleet: string): Promise<CoverageRow[]> {
    return this.#typed(contract.common.coverage, `/api/fleets/${seg(fleet)}/coverage`);
  }

  async readiness(fleet: string, q: { host: string; pin: string; target?: number; limit?: number; cursor?: string }) {
    const query: Query = { host: q.host, pin: q.pin, target: q.target, limit: q.limit, cursor: q.cursor };
    return this.#typed(contract.common.readiness, `/api/fleets/${seg(fleet)}/rotation-readiness${qs(query)}`);
  }

  async devices(q: DeviceQuery): Promise<DevicePage> {
    const body = await this.#typed(contract.devices.devicePage, `/api/devices${qs({ ...q })}`);
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
    return toDeviceDetailView(await this.#typed(contract.devices.deviceDetail, `/api/devices/${seg(id)}`));
  }

  async rollouts(q: { fleet?: string; state?: string } = {}): Promise<Rollout[]> {
    return (await this.#typed(contract.rollouts.rollouts, `/api/rollouts${qs(q)}`)).map(toRolloutView);
  }

  async rollout(id: string): Promise<Rollout> {
    return toRolloutView(await this.#typed(contract.rollouts.rollout, `/api/rollouts/${seg(id)}`));
  }

  /** A rollout's devices with their execution state (filtered by states and wave), paged by device id. */
  async executions(id: string, q: { state?: string; wave?: number; limit?: number; cursor?: string }): Promise<Page<Execution>> {
    const body = await this.#typed(contract.rollouts.executionPage, `/api/rollouts/${seg(id)}/executions${qs(q)}`);
    const items = body.items.map((e): Execution => {
      const at = e['at'] ?? e['deliveredAt'] ?? e['appliedAt'] ?? e['nextAttemptAt'];
      return { deviceId: e.deviceId, wave: e.wave, kind: e.kind, attempts: e.attempts, code: e.code ?? null, phase: e.phase ?? null, at: typeof at === 'number' ? at : null };
    });
    return { items, nextCursor: body.nextCursor };
  }

  async rolloutAction(id: string, action: RolloutAction, reason?: string): Promise<Rollout> {
    const body = reason !== undefined && reason !== '' ? { reason } : {};
    return toRolloutView(await this.#typed(contract.rollouts.rollout, `/api/rollouts/${seg(id)}/${action}`, 'POST', body));
  }

  async rotations(q: { fleet?: string; host?: string; limit?: number }): Promise<Rotation[]> {
    return this.#typed(contract.common.rotations, `/api/rotations${qs(q)}`);
  }

  /** POST /api/rotations: 422 E_GATE_NOT_MET unless ready, or forced with a reason. */
  async recordRotation(body: { fleet: string; host: string; pin: string; target?: number; force?: boolean; reason?: string }) {
    return this.#typed(contract.common.rotationRecorded, '/api/rotations', 'POST', body);
  }

  async pinsets(fleet?: string): Promise<PinSetSummary[]> {
    return (await this.#typed(contract.pinsets.pinsets, `/api/pinsets${qs({ fleet })}`)).map(
      (p): PinSetSummary => ({ ...p, hosts: p.pinset.hosts.map((h) => ({ name: h.name, pins: h.pins, enforce: h.enforce })) }),
    );
  }

  /** POST /api/pinsets (JSON draft, signed by the gateway) or /api/pinsets/envelope (signed offline, base64). */
  async publishPinSet(kind: 'json' | 'envelope', body: unknown) {
    return this.#typed(contract.pinsets.published, kind === 'json' ? '/api/pinsets' : '/api/pinsets/envelope', 'POST', body);
  }

  async createRollout(body: unknown): Promise<Rollout> {
    return toRolloutView(await this.#typed(contract.rollouts.rollout, '/api/rollouts', 'POST', body));
  }

  /** Decommission (reason required) or recommission a device. */
  async deviceDecommission(id: string, retire: boolean, reason: string): Promise<void> {
    await this.#json(`/api/devices/${seg(id)}/${retire ? 'decommission' : 'recommission'}`, 'POST', retire || reason !== '' ? { reason } : {});
  }

  async telemetry(q: { fleet?: string; host?: string; bucketSeconds?: number; since?: number }) {
    return list(await this.#json(`/api/telemetry${qs(q)}`)).map(toTelemetry) as TelemetryPoint[];
  }

  async reports(q: { fleet?: string; host?: string; limit?: number }): Promise<Report[]> {
    return list(await this.#json(`/api/reports${qs(q)}`)).map(toReport);
  }

  async audit(q: { limit?: number; cursor?: string; actor?: string; action?: string; target?: string }): Promise<Page<AuditEntry>> {
    const body = await this.#json(`/api/audit${qs(q)}`);
    return { items: list(body).map(toAudit), nextCursor: cursorOf(body) };
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
