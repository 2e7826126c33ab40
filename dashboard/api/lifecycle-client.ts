/**
 * The pin lifecycle part of the gateway's JSON API (issue 16: kill switch, findings, guided rotation) as the
 * dashboard reads it, over the same ApiClient transport (the operator's token). Answers are read defensively
 * (normalize.ts helpers): a field the gateway leaves out shows as "—", never as a crash.
 */
import { ApiError, type ApiClient } from './api-client';
import { list, num, obj, str } from './normalize';

export interface KillSwitchView {
  id: number;
  fleet: string;
  host: string;
  mode: string;
  reason: string;
  seq: number;
  createdAt: number;
  createdBy: string;
  supersededRollouts: string[];
  coverage: { total: number; online: number; have: number; onlineHave: number; percentOnline: number; percentFleet: number };
  reenabledBy: { pinsetId: number; seq: number } | null;
}

export interface FindingView {
  key: string;
  source: string;
  kind: string;
  severity: string;
  fleet: string | null;
  host: string;
  summary: string;
  firstSeenAt: number;
  lastSeenAt: number;
  resolvedAt: number | null;
}

export interface PlanView {
  id: number;
  fleet: string;
  host: string;
  step: string;
  expectedAction: string | null;
  currentPin: string;
  nextPin: string;
  backupPin: string;
  newNextPin: string | null;
  target: number;
  switchAt: number | null;
  gate: { ready: boolean; coverage: number; atRisk: number; atRiskOffline: number };
  prediction: { at: number; atRisk: number; atRiskOffline: number } | null;
}

export interface MismatchView {
  deviceId: string;
  fleet: string;
  host: string;
  servedPins: string[];
  receivedAt: number;
  classification: string;
  issuers: string[];
}

const n = (v: unknown) => num(v) ?? 0;

function toMismatch(v: unknown): MismatchView {
  const o = obj(v);
  return {
    deviceId: str(o['deviceId']) ?? '', fleet: str(o['fleet']) ?? '', host: str(o['host']) ?? '',
    servedPins: list(o['servedPins']).map((x) => str(x) ?? ''), receivedAt: n(o['receivedAt']),
    classification: str(o['classification']) ?? '', issuers: list(o['certificates']).map((c) => str(obj(c)['issuer']) ?? ''),
  };
}

function toKill(v: unknown): KillSwitchView {
  const o = obj(v);
  const c = obj(o['coverage']);
  const r = o['reenabledBy'] === null || o['reenabledBy'] === undefined ? null : obj(o['reenabledBy']);
  return {
    id: n(o['id']), fleet: str(o['fleet']) ?? '', host: str(o['host']) ?? '', mode: str(o['mode']) ?? '', reason: str(o['reason']) ?? '',
    seq: n(o['seq']), createdAt: n(o['createdAt']), createdBy: str(o['createdBy']) ?? '',
    supersededRollouts: list(o['supersededRollouts']).map((x) => str(x) ?? ''),
    coverage: {
      total: n(c['total']), online: n(c['online']), have: n(c['have']), onlineHave: n(c['onlineHave']),
      percentOnline: n(c['percentOnline']), percentFleet: n(c['percentFleet']),
    },
    reenabledBy: r === null ? null : { pinsetId: n(r['pinsetId']), seq: n(r['seq']) },
  };
}

function toFinding(v: unknown): FindingView {
  const o = obj(v);
  return {
    key: str(o['key']) ?? '', source: str(o['source']) ?? '', kind: str(o['kind']) ?? '', severity: str(o['severity']) ?? 'warning',
    fleet: str(o['fleet']) ?? null, host: str(o['host']) ?? '', summary: str(o['summary']) ?? '',
    firstSeenAt: n(o['firstSeenAt']), lastSeenAt: n(o['lastSeenAt']), resolvedAt: num(o['resolvedAt']) ?? null,
  };
}

function toPlan(v: unknown): PlanView {
  const o = obj(v);
  const g = obj(o['gate']);
  const p = o['prediction'] === null || o['prediction'] === undefined ? null : obj(o['prediction']);
  return {
    id: n(o['id']), fleet: str(o['fleet']) ?? '', host: str(o['host']) ?? '', step: str(o['step']) ?? '', expectedAction: str(o['expectedAction']) ?? null,
    currentPin: str(o['currentPin']) ?? '', nextPin: str(o['nextPin']) ?? '', backupPin: str(o['backupPin']) ?? '', newNextPin: str(o['newNextPin']) ?? null,
    target: n(o['target']), switchAt: num(o['switchAt']) ?? null,
    gate: { ready: g['ready'] === true, coverage: n(g['coverage']), atRisk: n(g['atRisk']), atRiskOffline: n(g['atRiskOffline']) },
    prediction: p === null ? null : { at: n(p['at']), atRisk: n(p['atRisk']), atRiskOffline: n(p['atRiskOffline']) },
  };
}

export class LifecycleClient {
  constructor(private readonly api: ApiClient) {}

  private async json(path: string, method = 'GET', body?: unknown): Promise<unknown> {
    const res = await this.api.send(path, { method, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
    if (!res.ok) {
      const err = obj(obj(await res.json().catch(() => null))['error']);
      throw new ApiError(res.status, str(err['code']) ?? `HTTP_${res.status}`, str(err['message']) ?? res.statusText);
    }
    return res.json();
  }

  async killSwitches(): Promise<KillSwitchView[]> {
    return list(await this.json('/api/kill-switch')).map(toKill);
  }

  async engageKillSwitch(body: { fleet: string; host: string; mode: string; reason: string; confirm: string }): Promise<KillSwitchView> {
    return toKill(await this.json('/api/kill-switch', 'POST', body));
  }

  async findings(): Promise<{ open: FindingView[]; resolved: FindingView[] }> {
    const o = obj(await this.json('/api/findings'));
    return { open: list(o['open']).map(toFinding), resolved: list(o['resolved']).map(toFinding) };
  }

  async runWatch(which: 'drift-watch' | 'ct-watch'): Promise<void> {
    await this.json(`/api/${which}/run`, 'POST', {});
  }

  async mismatches(limit = 20): Promise<MismatchView[]> {
    return list(await this.json(`/api/ct-watch/mismatches?limit=${limit}`)).map(toMismatch);
  }

  async plans(): Promise<PlanView[]> {
    return list(await this.json('/api/rotation-plans')).map(toPlan);
  }

  async planAction(id: number, action: string, body: Record<string, unknown>): Promise<PlanView> {
    return toPlan(await this.json(`/api/rotation-plans/${id}/${encodeURIComponent(action)}`, 'POST', body));
  }
}
