/**
 * Rows of the pin lifecycle records (issue 16): kill switches engaged and guided rotation plans. Plain objects,
 * like rows.ts; times are unix ms from the injected clock except a plan's `switchAt` (unix seconds, as entered).
 */
import type { KillMode } from '../../shared/index';

export interface KillSwitchRow {
  id: number;
  fleet: string;
  host: string;
  mode: KillMode;
  reason: string;
  pinsetId: number;
  seq: number;
  baseSeq: number;
  source: 'gateway' | 'offline';
  supersededRollouts: string[];
  createdAt: number;
  createdBy: string;
}

export type NewKillSwitch = Omit<KillSwitchRow, 'id'>;

export interface KillCoverageCounts {
  /** Devices of the fleet (decommissioned excluded, SPEC §8). */
  total: number;
  online: number;
  /** Devices whose installed set is the kill set or newer (installed seq ≥ the kill set's). */
  have: number;
  onlineHave: number;
}

/** The steps of a guided rotation (the machine itself is guided-rotation/plan-steps.ts). */
export const PLAN_STEPS = ['planned', 'published', 'rolling-out', 'safe-to-switch', 'switched', 'finishing', 'done', 'cancelled'] as const;
export type PlanStep = (typeof PLAN_STEPS)[number];

export interface PlanHistoryEntry {
  at: number;
  actor: string;
  action: string;
  from: PlanStep;
  to: PlanStep;
  detail?: Record<string, unknown>;
}

export interface RotationPlanRow {
  id: number;
  fleet: string;
  host: string;
  port: number | null;
  currentPin: string;
  nextPin: string;
  backupPin: string;
  newNextPin: string | null;
  /** Percent, e.g. 95 (stored in basis points). */
  target: number;
  /** Planned switch time, unix seconds. */
  switchAt: number | null;
  step: PlanStep;
  history: PlanHistoryEntry[];
  stage1PinsetId: number | null;
  stage1RolloutId: string | null;
  stage2PinsetId: number | null;
  stage2RolloutId: string | null;
  createdAt: number;
  createdBy: string;
  updatedAt: number;
}

export type NewPlan = Pick<
  RotationPlanRow,
  'fleet' | 'host' | 'port' | 'currentPin' | 'nextPin' | 'backupPin' | 'target' | 'switchAt' | 'createdAt' | 'createdBy'
>;
export type PlanUpdate = Partial<
  Pick<RotationPlanRow, 'newNextPin' | 'switchAt' | 'stage1PinsetId' | 'stage1RolloutId' | 'stage2PinsetId' | 'stage2RolloutId'>
>;
