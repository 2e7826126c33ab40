/**
 * The pin lifecycle part of the gateway's JSON API (issue 16: kill switch, findings, guided rotation) as the
 * dashboard reads it, over the same ApiClient transport (the operator's token). Every answer is parsed with the API
 * contract's schemas (api-contract/lifecycle.ts), the ones the gateway declares on these routes (issue 15): no
 * field is guessed at; an answer outside the contract is E_CONTRACT.
 */
import type { z } from 'zod';
import { lifecycle } from '../../api-contract/index';
import type { ApiClient } from './api-client';

export type KillSwitchView = z.infer<typeof lifecycle.killSwitch>;
export type FindingView = z.infer<typeof lifecycle.finding>;
export type PlanView = z.infer<typeof lifecycle.rotationPlan>;
export type MismatchView = z.infer<typeof lifecycle.mismatch>;

export class LifecycleClient {
  constructor(private readonly api: ApiClient) {}

  async killSwitches(): Promise<KillSwitchView[]> {
    return this.api.typed(lifecycle.killSwitches, '/api/kill-switch');
  }

  async engageKillSwitch(body: { fleet: string; host: string; mode: string; reason: string; confirm: string }): Promise<KillSwitchView> {
    return this.api.typed(lifecycle.killSwitchEngaged, '/api/kill-switch', 'POST', body);
  }

  async findings(): Promise<{ open: FindingView[]; resolved: FindingView[] }> {
    return this.api.typed(lifecycle.findings, '/api/findings');
  }

  /** Marks an open finding seen (every replica's dashboard shows it: the gateway records it in its registry). */
  async acknowledgeFinding(key: string): Promise<FindingView> {
    return this.api.typed(lifecycle.finding, '/api/findings/acknowledge', 'POST', { key });
  }

  async runWatch(which: 'drift-watch' | 'ct-watch'): Promise<void> {
    await this.api.typed(which === 'drift-watch' ? lifecycle.driftRun : lifecycle.ctRun, `/api/${which}/run`, 'POST', {});
  }

  async mismatches(limit = 20): Promise<MismatchView[]> {
    return this.api.typed(lifecycle.mismatches, `/api/ct-watch/mismatches?limit=${limit}`);
  }

  async plans(): Promise<PlanView[]> {
    return this.api.typed(lifecycle.rotationPlans, '/api/rotation-plans');
  }

  async planAction(id: number, action: string, body: Record<string, unknown>): Promise<PlanView> {
    return this.api.typed(lifecycle.rotationPlan, `/api/rotation-plans/${id}/${encodeURIComponent(action)}`, 'POST', body);
  }
}
