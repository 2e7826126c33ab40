/**
 * The pin lifecycle steps of the drill (issue 16, docs/drill.md): a drift finding and its resolution, and the
 * guided rotation plan the drill's K1 → K2 rotation is walked with, then {K2, B, K3}. Everything over the API,
 * as an operator's script would.
 */
import { readFile } from 'node:fs/promises';
import type { BrokerKey } from './drill-pki';
import type { GatewayApi, RolloutView } from './gateway-api';
import type { Timeline } from './timeline';
import { waitUntil } from '../wait-until';

export interface PlanView {
  id: number;
  step: string;
  expectedAction: string | null;
  nextPin: string;
  stage1PinsetId: number | null;
  stage1RolloutId: string | null;
  stage2PinsetId: number | null;
  stage2RolloutId: string | null;
  gate: { ready: boolean; coverage: number; atRisk: number };
  prediction: { at: number; atRisk: number; atRiskOffline: number } | null;
  rollouts: { stage1: string | null; stage2: string | null };
  history: { action: string; actor: string; detail?: Record<string, unknown> }[];
}

interface Finding {
  kind: string;
  severity: string;
  summary: string;
  detail: { servedPin?: string; atRisk?: number };
}
interface DriftRun {
  raised: number;
  cleared: number;
  open: number;
  probes: { host: string; port: number; ok: boolean; servedPin: string | null; error: string | null }[];
}

export interface DriftDrillResult {
  finding: { kind: string; atRisk: number; servedPin: string };
  cleared: number;
}

export const planAction = (api: GatewayApi, id: number, action: string, body: Record<string, unknown> = {}) =>
  api.call<PlanView>('POST', `/api/rotation-plans/${id}/${action}`, body);

export const runDrift = (api: GatewayApi) => api.call<DriftRun>('POST', '/api/drift-watch/run', {});

/**
 * Someone installs an unannounced key on the broker (established sessions survive a reload, so nothing breaks
 * yet): one drift run raises a critical finding naming every device that would fail on reconnect; the key is
 * put back and the next run clears it.
 */
export async function driftDrill(o: { api: GatewayApi; serve: (key: BrokerKey) => Promise<void>; tl: Timeline; fleet: string; rogue: BrokerKey; good: BrokerKey }): Promise<DriftDrillResult> {
  const { api, serve, tl, rogue, good } = o;
  // the drill's own fleet: a set-up that lives on (--target) holds the fleets of earlier runs, whose pins are not served
  const openOfFleet = async () => (await api.call<{ open: Finding[] }>('GET', `/api/findings?${new URLSearchParams({ kind: 'drift', fleet: o.fleet })}`)).open;
  await serve(rogue);
  tl.add('drift-key-swapped', `someone installs an unannounced key R ${rogue.pin.slice(0, 17)}… on the broker (SIGHUP; established sessions stay)`, { pin: rogue.pin });
  const run = await runDrift(api);
  const f = (await openOfFleet()).find((x) => x.kind === 'drift-unpinned');
  if (f === undefined) throw new Error(`drift watch raised no drift-unpinned finding: ${JSON.stringify(run)}`);
  tl.add('drift-finding', `drift watch (on demand): ${f.severity} ${f.kind}: ${f.summary}`, { raised: run.raised, atRisk: f.detail.atRisk });
  await serve(good);
  const after = await runDrift(api);
  const stillOpen = (await openOfFleet()).length;
  tl.add('drift-resolved', `the key is put back; next drift run: ${after.cleared} finding cleared, ${stillOpen} open`, { cleared: after.cleared, open: stillOpen });
  if (stillOpen !== 0) throw new Error('the drift finding did not clear after the key was put back');
  return { finding: { kind: f.kind, atRisk: f.detail.atRisk ?? -1, servedPin: f.detail.servedPin ?? '' }, cleared: after.cleared };
}

/** Creates the plan (next key given as its certificate, as before it is ever served), publishes stage 1 and starts its rollout. */
export async function startGuidedRotation(o: {
  api: GatewayApi; tl: Timeline; fleet: string; host: string; port: number; keys: { k1: BrokerKey; k2: BrokerKey; backup: BrokerKey };
  target: number; rollout: Record<string, unknown>;
}): Promise<{ plan: PlanView; rollout: RolloutView }> {
  const { api, tl } = o;
  const created = await api.call<PlanView>('POST', '/api/rotation-plans', {
    fleet: o.fleet, host: o.host, port: o.port, current: o.keys.k1.pin, next: await readFile(o.keys.k2.certFile, 'utf8'), backup: o.keys.backup.pin,
    target: o.target, switchAt: Math.floor(Date.now() / 1000) + 3600,
  });
  tl.add('plan', `guided rotation plan #${created.id}: ${o.host} K1 → K2 (next key pinned from its certificate before it is ever served), backup B, target ${o.target} %`, { id: created.id });
  const published = await planAction(api, created.id, 'publish');
  tl.add('plan-step', `plan #${created.id} publish: pin set {K1, K2, B} (pin set ${published.stage1PinsetId})`, { step: published.step });
  const rolling = await planAction(api, created.id, 'roll-out', { rollout: o.rollout });
  if (rolling.stage1RolloutId === null) throw new Error('the plan started no rollout');
  tl.add('plan-step', `plan #${created.id} roll-out: staged rollout ${rolling.stage1RolloutId}; prediction for the planned switch: ${rolling.prediction?.atRisk ?? '—'} devices would fail (${rolling.prediction?.atRiskOffline ?? '—'} offline)`, { step: rolling.step, prediction: rolling.prediction });
  return { plan: rolling, rollout: await api.rollout(rolling.stage1RolloutId) };
}

/** Stage 2: {K2, B, K3} rolled out in one wave, then the plan is done. */
export async function finishGuidedRotation(o: { api: GatewayApi; tl: Timeline; planId: number; newNext: BrokerKey; timeoutMs: number }): Promise<PlanView> {
  const { api, tl, planId } = o;
  const finishing = await planAction(api, planId, 'publish-next', {
    newNext: await readFile(o.newNext.certFile, 'utf8'),
    rollout: { plan: { waves: [{ name: 'all', limit: { percent: 100 } }] }, gates: { soakMs: 0 }, rate: { perSecond: 200, burst: 200 } },
  });
  tl.add('plan-step', `plan #${planId} publish-next: pin set {K2, B, K3} (pin set ${finishing.stage2PinsetId}), rollout ${finishing.stage2RolloutId}`, { step: finishing.step });
  await waitUntil('the {K2, B, K3} rollout to complete', async () => {
    const p = await api.call<PlanView>('GET', `/api/rotation-plans/${planId}`);
    return p.rollouts.stage2 === 'COMPLETED' ? p : undefined;
  }, o.timeoutMs, 500);
  const done = await planAction(api, planId, 'complete');
  tl.add('plan-done', `plan #${planId} ${done.step}: ${done.history.map((h) => `${h.action}${h.actor === 'drift-watch' ? ' (drift watch)' : ''}`).join(' → ')}`, { steps: done.history.map((h) => h.action) });
  return done;
}
