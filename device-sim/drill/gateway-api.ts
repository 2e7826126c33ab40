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

/** Longest wait for one replica's answer before the next is tried (the slowest drill call, a drift run, takes ~1 s). */
const REPLICA_ANSWER_MS = 30_000;

/** A request no replica answered (every API URL refused or dropped it). */
export class ApiUnreachable extends Error {}

/** The replica refused the connection: the request never reached it, so repeating it elsewhere cannot run it twice. */
const refusedConnection = (e: unknown): boolean => (e as { cause?: { code?: string } }).cause?.code === 'ECONNREFUSED';
const why = (e: unknown): string => (e as { cause?: { code?: string } }).cause?.code ?? (e as Error).message;

/**
 * The gateway's API at one or several URLs: the replicas of a scale set-up all serve the same API on one registry
 * (docs/scale.md "Replicas"), so when the replica the drill talks to stops answering it goes on through the next.
 * A GET is repeated on the next replica whatever happened; a POST only when the connection was refused (it never
 * reached the replica): a POST cut off mid-way may have run, and its caller decides (re-read, retry).
 */
export class GatewayApi {
  private readonly urls: readonly string[];
  private current = 0;

  constructor(
    baseUrl: string | readonly string[],
    private readonly token: string,
    /** Told when the API moves to another replica. */
    private readonly onSwitch: (from: string, to: string, why: string) => void = () => {},
  ) {
    this.urls = typeof baseUrl === 'string' ? [baseUrl] : [...baseUrl];
    if (this.urls.length === 0) throw new TypeError('GatewayApi: no API URL');
  }

  /** The replica requests go to now. */
  get baseUrl(): string {
    return this.urls[this.current] as string;
  }

  async call<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
    for (let tried = 1; ; tried++) {
      const base = this.baseUrl;
      let res: Response;
      try {
        res = await fetch(new URL(path, base), {
          method,
          headers: { authorization: `Bearer ${this.token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
          ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
          // with replicas to fall back on, a frozen one (SIGSTOP) must not hold the drill forever
          ...(this.urls.length > 1 ? { signal: AbortSignal.timeout(REPLICA_ANSWER_MS) } : {}),
        });
      } catch (e) {
        if (this.urls.length === 1) throw e;
        const repeatable = method === 'GET' || refusedConnection(e);
        this.current = (this.current + 1) % this.urls.length;
        this.onSwitch(base, this.baseUrl, why(e));
        if (!repeatable) throw new ApiUnreachable(`${method} ${path} to ${base}: ${why(e)} (not repeated: it may have run)`);
        if (tried >= this.urls.length) throw new ApiUnreachable(`${method} ${path}: no replica answered (last ${base}: ${why(e)})`);
        continue;
      }
      const text = await res.text();
      const json: unknown = text.length > 0 ? JSON.parse(text) : null;
      if (!res.ok) throw new ApiError(res.status, json, `${method} ${path}`);
      return json as T;
    }
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
