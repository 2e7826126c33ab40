/**
 * A stand-in for the gateway's JSON API (docs/api.md) with in-memory data, used ONLY to test the dashboard while
 * the real API is being written. It is not the system under test. Tests drive it through its methods
 * (verify devices, add reports …) and it announces every change on GET /api/events, like the real gateway.
 */
import { Hono, type Context } from 'hono';
import { streamSSE } from 'hono/streaming';

export type Role = 'viewer' | 'publisher' | 'operator' | 'admin';
const RANK: Record<Role, number> = { viewer: 0, publisher: 1, operator: 2, admin: 3 };

export interface FakeDevice {
  deviceId: string;
  fleet: string;
  deviceClass: string;
  labels: string[];
  firmware: string | null;
  online: boolean;
  lastSeen: number | null;
  installedSeq: number;
  verifiedSeq: number;
  keysetVersion: number;
  decommissioned: boolean;
  flagged: { reason: string; at: number; count: number } | null;
}

export interface FakePinSet {
  id: number;
  fleet: string;
  seq: number;
  hosts: { name: string; pins: string[]; enforce: boolean }[];
}

type Kind = 'QUEUED' | 'DELIVERED' | 'APPLIED' | 'VERIFIED' | 'REJECTED' | 'TIMED_OUT' | 'SUPERSEDED' | 'DECOMMISSIONED';
const KINDS: Kind[] = ['QUEUED', 'DELIVERED', 'APPLIED', 'VERIFIED', 'REJECTED', 'TIMED_OUT', 'SUPERSEDED', 'DECOMMISSIONED'];

export interface FakeRollout {
  id: string;
  fleet: string;
  pinsetId: number;
  seq: number;
  createdAt: number;
  state: Record<string, unknown> & { kind: string };
  plan: { waves: { name: string; limit: Record<string, number> }[] };
  waves: { index: number; startedAt: number; enrolled: number; endedAt: number | null }[];
  executions: Map<string, { wave: number; kind: Kind }>;
}

export interface FakeOptions {
  /** Serve GET /api/events (default true); false makes the dashboard fall back to polling. */
  events?: boolean;
  now?: () => number;
}

export class FakeGateway {
  readonly app = new Hono();
  readonly tokens = new Map<string, { name: string; role: Role }>();
  readonly devices = new Map<string, FakeDevice>();
  readonly pinsets: FakePinSet[] = [];
  readonly rollouts = new Map<string, FakeRollout>();
  readonly reports: Record<string, unknown>[] = [];
  readonly telemetry: { t: number; ok: number; mismatch: number; failOpen: number }[] = [];
  readonly audit: { id: number; at: number; actor: string; action: string; target: string | null; detail: unknown }[] = [];
  /** Every request the fake answered (method + path), for assertions. */
  readonly calls: string[] = [];
  readonly #subscribers = new Set<(event: string, data: string) => void>();
  readonly #now: () => number;

  constructor(options: FakeOptions = {}) {
    this.#now = options.now ?? (() => Date.now());
    const api = new Hono<{ Variables: { who: { name: string; role: Role } } }>();
    api.use('*', async (c, next) => {
      this.calls.push(`${c.req.method} ${c.req.path}`);
      const auth = c.req.header('authorization') ?? '';
      const who = this.tokens.get(auth.replace(/^Bearer /, ''));
      if (who === undefined) return err(c, 401, 'E_AUTH', 'bad token');
      c.set('who', who);
      await next();
    });
    const need = (c: Context, role: Role) => RANK[(c.get('who') as { role: Role }).role] >= RANK[role];

    api.get('/fleets', (c) => c.json(this.fleets()));
    api.get('/devices', (c) => {
      const q = c.req.query();
      let items = [...this.devices.values()].filter(
        (d) =>
          (!q['fleet'] || d.fleet === q['fleet']) &&
          (!q['deviceClass'] || d.deviceClass === q['deviceClass']) &&
          (!q['online'] || String(d.online) === q['online']) &&
          (!q['seq'] || String(d.installedSeq) === q['seq']) &&
          (!q['q'] || d.deviceId.includes(q['q']) || (d.firmware ?? '').includes(q['q'])),
      );
      if (q['state'] === 'decommissioned') items = items.filter((d) => d.decommissioned);
      if (q['state'] === 'active') items = items.filter((d) => !d.decommissioned);
      if (q['state'] === 'flagged') items = items.filter((d) => d.flagged !== null);
      const start = Number(q['offset'] ?? q['cursor'] ?? 0);
      const limit = Number(q['limit'] ?? 50);
      const page = items.slice(start, start + limit);
      const next = start + limit < items.length ? start + limit : null;
      return c.json({
        items: page.map((d) => this.deviceJson(d)),
        nextCursor: next === null ? null : String(next),
        total: items.length,
        offset: start,
        nextOffset: next,
        prevOffset: start > 0 ? Math.max(0, start - limit) : null,
      });
    });
    api.get('/devices/:id', (c) => {
      const d = this.devices.get(c.req.param('id'));
      if (d === undefined) return err(c, 404, 'E_NOT_FOUND', 'no such device');
      // the shape of gateway/api-contract `devices.deviceDetail` (the dashboard parses answers with it)
      const history = [
        { type: 'ack', at: this.#now() - 60_000, seq: d.verifiedSeq, sha256: 'ab'.repeat(32), status: 'verified', code: null, pinsetId: null },
        ...this.reports
          .filter((r) => r['deviceId'] === d.deviceId)
          .map((r) => ({ type: 'report', at: r['receivedAt'], host: r['host'], port: r['port'], result: r['result'], servedPins: r['servedPins'], installedSeq: r['installedSeq'], deviceTime: Math.floor(Number(r['receivedAt']) / 1000) })),
      ];
      return c.json({ ...this.deviceJson(d), malformed: [], history, rollouts: [] });
    });
    api.get('/rollouts', (c) => {
      const fleet = c.req.query('fleet');
      const state = c.req.query('state');
      const list = [...this.rollouts.values()].filter((r) => (!fleet || r.fleet === fleet) && (!state || r.state.kind === state));
      return c.json(list.map((r) => this.rolloutJson(r)));
    });
    api.get('/rollouts/:id', (c) => {
      const r = this.rollouts.get(c.req.param('id'));
      return r ? c.json(this.rolloutJson(r)) : err(c, 404, 'E_NOT_FOUND', 'no such rollout');
    });
    api.post('/rollouts/:id/:action', async (c) => {
      if (!need(c, 'operator')) return err(c, 403, 'E_ROLE', 'operator role required');
      const r = this.rollouts.get(c.req.param('id'));
      if (!r) return err(c, 404, 'E_NOT_FOUND', 'no such rollout');
      const body = (await c.req.json().catch(() => ({}))) as { reason?: string };
      const res = this.act(r, c.req.param('action'), body.reason ?? '');
      if (res !== null) return err(c, 409, 'E_TRANSITION', res);
      this.log((c.get('who') as { name: string }).name, `rollout.${c.req.param('action')}`, r.id, body);
      return c.json(this.rolloutJson(r));
    });
    api.post('/devices', async (c) => {
      if (!need(c, 'operator')) return err(c, 403, 'E_ROLE', 'operator role required');
      return err(c, 400, 'E_BAD_BODY', 'deviceId, fleet and deviceClass are required');
    });
    api.get('/fleets/:fleet/coverage', (c) => c.json(this.coverage(c.req.param('fleet'))));
    api.get('/fleets/:fleet/rotation-readiness', (c) => {
      const host = c.req.query('host') ?? '';
      const pin = c.req.query('pin') ?? '';
      const target = Number(c.req.query('target') ?? 95);
      const row = this.coverage(c.req.param('fleet')).find((x) => x.host === host && x.pin === pin);
      const atRisk = this.fleetDevices(c.req.param('fleet')).filter((d) => !this.pinsOf(d).get(host)?.includes(pin));
      const percent = row?.percent ?? 0;
      const start = Number(c.req.query('cursor') ?? 0);
      const limit = Number(c.req.query('limit') ?? 100);
      // the answer in the API contract's shape (api-contract common.readiness)
      const why = (d: FakeDevice) => (d.verifiedSeq === 0 ? 'never-said-hello' : 'pin-absent') as 'never-said-hello' | 'pin-absent';
      const page = atRisk.slice(start, start + limit).map((d) => ({ deviceId: d.deviceId, online: d.online, installedSeq: d.verifiedSeq, why: why(d) }));
      const nextCursor = start + limit < atRisk.length ? String(start + limit) : null;
      const atRiskBy = { 'pin-absent': 0, 'never-said-hello': 0, 'unrecognised-set': 0 };
      for (const d of atRisk) atRiskBy[why(d)] += 1;
      const total = this.fleetDevices(c.req.param('fleet')).length;
      return c.json({
        fleet: c.req.param('fleet'), host, pin, ready: total > 0 && percent >= target, coverage: percent, verified: row?.verified ?? 0, total, target,
        atRisk: atRisk.length, atRiskBy, devices: page, nextCursor,
      });
    });
    api.get('/telemetry', (c) => c.json(this.telemetry));
    api.get('/reports', (c) => c.json(this.reports.slice(-Number(c.req.query('limit') ?? 50)).reverse()));
    api.get('/audit', (c) => c.json({ items: [...this.audit].reverse(), nextCursor: null }));
    if (options.events !== false) {
      api.get('/events', (c) =>
        streamSSE(c, async (stream) => {
          const send = (event: string, data: string) => void stream.writeSSE({ event, data }).catch(() => undefined);
          this.#subscribers.add(send);
          await new Promise<void>((resolve) => stream.onAbort(resolve));
          this.#subscribers.delete(send);
        }),
      );
    }
    this.app.route('/api', api);
  }

  get subscriberCount(): number {
    return this.#subscribers.size;
  }

  emit(event: string, data: unknown = {}): void {
    for (const s of this.#subscribers) s(event, JSON.stringify(data));
  }

  log(actor: string, action: string, target: string | null, detail: unknown): void {
    this.audit.push({ id: this.audit.length + 1, at: this.#now(), actor, action, target, detail });
  }

  fleetDevices(fleet: string): FakeDevice[] {
    return [...this.devices.values()].filter((d) => d.fleet === fleet && !d.decommissioned);
  }

  fleets() {
    const names = [...new Set([...this.devices.values()].map((d) => d.fleet))].sort();
    return names.map((fleet) => {
      const ds = this.fleetDevices(fleet);
      const seqs = this.pinsets.filter((p) => p.fleet === fleet).map((p) => p.seq);
      return { fleet, devices: ds.length, online: ds.filter((d) => d.online).length, latestSeq: seqs.length ? Math.max(...seqs) : null };
    });
  }

  /** host → pins of the pin set the device verified. */
  pinsOf(d: FakeDevice): Map<string, string[]> {
    const p = this.pinsets.find((x) => x.fleet === d.fleet && x.seq === d.verifiedSeq);
    return new Map((p?.hosts ?? []).map((h) => [h.name, h.pins]));
  }

  coverage(fleet: string) {
    const ds = this.fleetDevices(fleet);
    const pairs = new Map<string, { host: string; pin: string }>();
    for (const p of this.pinsets.filter((x) => x.fleet === fleet))
      for (const h of p.hosts) for (const pin of h.pins) pairs.set(`${h.name} ${pin}`, { host: h.name, pin });
    return [...pairs.values()].map(({ host, pin }) => {
      const verified = ds.filter((d) => this.pinsOf(d).get(host)?.includes(pin)).length;
      return { host, pin, verified, total: ds.length, percent: ds.length ? (100 * verified) / ds.length : 0 };
    });
  }

  /** A device in the shape of gateway/api-contract `devices.device`. */
  deviceJson(d: FakeDevice) {
    return { ...d, installedSha256: null, assignedPinsetId: null, createdAt: this.#now() - 86_400_000 };
  }

  rolloutJson(r: FakeRollout) {
    const zero = () => Object.fromEntries(KINDS.map((k) => [k, 0])) as Record<Kind, number>;
    const byKind = zero();
    const byWave = r.plan.waves.map(zero);
    for (const e of r.executions.values()) {
      byKind[e.kind] += 1;
      (byWave[e.wave] as Record<Kind, number>)[e.kind] += 1;
    }
    // the shape of gateway/api-contract `rollouts.rollout` (the dashboard parses answers with it)
    const gates = { successPercent: 95, soakMs: 600_000, errorPercent: 5, errorMinFinished: 10, telemetryMismatchPercent: 2, telemetryMinReports: 10, manualApproval: false };
    const s = r.state as { kind: string; reason?: unknown };
    return {
      id: r.id,
      fleet: r.fleet,
      seq: r.seq,
      pinsetId: r.pinsetId,
      createdAt: r.createdAt,
      createdBy: 'olivia',
      updatedAt: r.createdAt,
      state: r.state,
      pauseReason: s.kind === 'PAUSED' ? (s.reason ?? null) : null,
      abortReason: s.kind === 'ABORTED' ? (s.reason ?? null) : null,
      target: {},
      targetDevices: this.fleetDevices(r.fleet).length,
      plan: r.plan,
      config: { gates, delivery: { deliveryTimeoutMs: 120_000, verifyTimeoutMs: 600_000, maxAttempts: 5, backoffBaseMs: 30_000, backoffMaxMs: 900_000 }, rate: { perSecond: 50, burst: 50 } },
      gates,
      manualApproval: false,
      gateWindowStart: r.createdAt,
      waves: r.plan.waves.map((spec, index) => {
        const w = r.waves.find((x) => x.index === index);
        return {
          index,
          name: spec.name,
          limit: spec.limit,
          selector: null,
          startedAt: w?.startedAt ?? null,
          endedAt: w?.endedAt ?? null,
          enrolled: w?.enrolled ?? null,
          counts: byWave[index] ?? zero(),
          eta: null,
        };
      }),
      executions: { total: r.executions.size, byKind, byWave },
      eta: null,
      gate: null,
      warnings: [],
    };
  }

  act(r: FakeRollout, action: string, reason: string): string | null {
    const s = r.state;
    const now = this.#now();
    switch (action) {
      case 'pause':
        if (s.kind !== 'RUNNING') return `cannot pause a rollout in state ${s.kind}`;
        r.state = { ...s, kind: 'PAUSED', since: now, reason: { kind: 'operator', message: reason } };
        break;
      case 'resume':
        if (s.kind !== 'PAUSED') return `cannot resume a rollout in state ${s.kind}`;
        r.state = { kind: 'RUNNING', wave: s['wave'], waveCount: s['waveCount'], since: now, soakStartedAt: null };
        break;
      case 'abort':
        if (s.kind === 'COMPLETED' || s.kind === 'ABORTED') return `cannot abort a rollout in state ${s.kind}`;
        r.state = { kind: 'ABORTED', at: now, reason: { kind: 'operator', message: reason } };
        break;
      case 'advance':
      case 'retry-failed':
      case 'start':
        if (s.kind !== 'RUNNING') return `cannot ${action} a rollout in state ${s.kind}`;
        break;
      default:
        return `unknown action ${action}`;
    }
    this.emit('rollout', { id: r.id, state: r.state.kind });
    return null;
  }

  /** Devices acknowledge: move executions of `rolloutId` to `kind` (and the devices' seqs with them). */
  ack(rolloutId: string, deviceIds: string[], kind: Kind): void {
    const r = this.rollouts.get(rolloutId);
    if (!r) throw new Error(`no rollout ${rolloutId}`);
    for (const id of deviceIds) {
      const e = r.executions.get(id);
      const d = this.devices.get(id);
      if (!e || !d) continue;
      e.kind = kind;
      if (kind === 'APPLIED' || kind === 'VERIFIED') d.installedSeq = r.seq;
      if (kind === 'VERIFIED') d.verifiedSeq = r.seq;
    }
    this.emit('rollout', { id: r.id });
    this.emit('coverage', { fleet: r.fleet });
  }

  executionsIn(rolloutId: string, kind: Kind): string[] {
    const r = this.rollouts.get(rolloutId);
    return r ? [...r.executions].filter(([, e]) => e.kind === kind).map(([id]) => id) : [];
  }
}

function err(c: Context, status: 400 | 401 | 403 | 404 | 409, code: string, message: string) {
  return c.json({ error: { code, message } }, status);
}
