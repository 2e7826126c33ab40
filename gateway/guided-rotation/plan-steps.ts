/**
 * Guided rotation (issue 16 §4) as a pure step machine. Each step is gated and audited by the service; this file
 * says only which action is legal in which step and where it leads.
 *
 *   planned ──publish──▶ published ──roll-out──▶ rolling-out ──confirm-gate──▶ safe-to-switch
 *      (pins {current, next, backup})               (staged rollout)   (coverage of next ≥ target)
 *   safe-to-switch ──record-switch──▶ switched ──publish-next──▶ finishing ──complete──▶ done
 *      (operator, or drift watch sees next served)   (pins {next, backup, new next}, rolled out)
 *   any step before done ──cancel──▶ cancelled
 */
import { PLAN_STEPS, type PlanStep } from '../registry/lifecycle-rows';

// the steps are stored with a plan, so the storage contract owns their names
export { PLAN_STEPS, type PlanStep };

export const PLAN_ACTIONS = ['publish', 'roll-out', 'confirm-gate', 'record-switch', 'publish-next', 'complete', 'cancel'] as const;
export type PlanAction = (typeof PLAN_ACTIONS)[number];

const TABLE: Record<Exclude<PlanAction, 'cancel'>, { from: PlanStep; to: PlanStep }> = {
  publish: { from: 'planned', to: 'published' },
  'roll-out': { from: 'published', to: 'rolling-out' },
  'confirm-gate': { from: 'rolling-out', to: 'safe-to-switch' },
  'record-switch': { from: 'safe-to-switch', to: 'switched' },
  'publish-next': { from: 'switched', to: 'finishing' },
  complete: { from: 'finishing', to: 'done' },
};

export function nextStep(step: PlanStep, action: PlanAction): { ok: true; to: PlanStep } | { ok: false; error: string } {
  if (action === 'cancel') {
    return step === 'done' || step === 'cancelled' ? { ok: false, error: `the plan is ${step}` } : { ok: true, to: 'cancelled' };
  }
  const t = TABLE[action];
  if (t.from !== step) return { ok: false, error: `"${action}" needs the step "${t.from}"; the plan is at "${step}"` };
  return { ok: true, to: t.to };
}

/** What the operator does next at each step (the dashboard and the API show it). */
export function expectedAction(step: PlanStep): PlanAction | null {
  const e = Object.entries(TABLE).find(([, t]) => t.from === step);
  return e === undefined ? null : (e[0] as PlanAction);
}
