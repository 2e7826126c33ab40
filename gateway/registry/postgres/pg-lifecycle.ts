import type { KillMode } from '../../../shared/index';
import type { KillCoverageCounts, KillSwitchRow, NewKillSwitch, NewPlan, PlanHistoryEntry, PlanStep, PlanUpdate, RotationPlanRow } from '../lifecycle-rows';
import type { KillSwitchRepo, RotationPlanRepo } from '../repositories';
import { rows, type Queryable } from './pg-pool';

const KILL_COLUMNS = `id, fleet, host, mode, reason, pinset_id as "pinsetId", seq, base_seq as "baseSeq", source,
  superseded_rollouts as "supersededRollouts", created_at as "createdAt", created_by as "createdBy"`;

type KillRaw = Omit<KillSwitchRow, 'supersededRollouts' | 'mode' | 'source'> & { supersededRollouts: string; mode: string; source: string };
const killFromRaw = (r: KillRaw): KillSwitchRow => ({
  ...r,
  mode: r.mode as KillMode,
  source: r.source as 'gateway' | 'offline',
  supersededRollouts: JSON.parse(r.supersededRollouts) as string[],
});

/** Kill switches engaged (lifecycle-schema.ts), PostgreSQL side of KillSwitchRepo. */
export class PgKillSwitches implements KillSwitchRepo {
  constructor(private readonly db: Queryable) {}

  async insert(r: NewKillSwitch): Promise<KillSwitchRow> {
    const [row] = await rows<KillRaw>(
      this.db,
      `insert into kill_switches (fleet, host, mode, reason, pinset_id, seq, base_seq, source, superseded_rollouts, created_at, created_by)
       values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) returning ${KILL_COLUMNS}`,
      [r.fleet, r.host, r.mode, r.reason, r.pinsetId, r.seq, r.baseSeq, r.source, JSON.stringify(r.supersededRollouts), r.createdAt, r.createdBy],
    );
    if (row === undefined) throw new Error('kill switch insert returned nothing');
    return killFromRaw(row);
  }

  async get(id: number): Promise<KillSwitchRow | undefined> {
    const [row] = await rows<KillRaw>(this.db, `select ${KILL_COLUMNS} from kill_switches where id = $1`, [id]);
    return row === undefined ? undefined : killFromRaw(row);
  }

  async list(fleet?: string, limit = 100): Promise<KillSwitchRow[]> {
    const list =
      fleet === undefined
        ? await rows<KillRaw>(this.db, `select ${KILL_COLUMNS} from kill_switches order by id desc limit $1`, [limit])
        : await rows<KillRaw>(this.db, `select ${KILL_COLUMNS} from kill_switches where fleet = $1 order by id desc limit $2`, [fleet, limit]);
    return list.map(killFromRaw);
  }

  /** One pass over the fleet's device rows (index devices_fleet_idx; decommissioned excluded, SPEC §8). */
  async coverage(fleet: string, seq: number): Promise<KillCoverageCounts> {
    const [r] = await rows<KillCoverageCounts>(
      this.db,
      `select count(*) as total, count(*) filter (where online) as online, count(*) filter (where installed_seq >= $2) as have,
              count(*) filter (where online and installed_seq >= $2) as "onlineHave"
       from devices where fleet = $1 and not decommissioned`,
      [fleet, seq],
      'kill_switch_coverage',
    );
    return r ?? { total: 0, online: 0, have: 0, onlineHave: 0 };
  }
}

const PLAN_COLUMNS = `id, fleet, host, port, current_pin as "currentPin", next_pin as "nextPin", backup_pin as "backupPin",
  new_next_pin as "newNextPin", target, switch_at as "switchAt", step, history, stage1_pinset_id as "stage1PinsetId",
  stage1_rollout_id as "stage1RolloutId", stage2_pinset_id as "stage2PinsetId", stage2_rollout_id as "stage2RolloutId",
  created_at as "createdAt", created_by as "createdBy", updated_at as "updatedAt"`;

type PlanRaw = Omit<RotationPlanRow, 'history' | 'step'> & { history: string; step: string };
// target is stored in basis points (95 % = 9500), as on SQLite
const planFromRaw = (r: PlanRaw): RotationPlanRow => ({
  ...r,
  target: r.target / 100,
  step: r.step as PlanStep,
  history: JSON.parse(r.history) as PlanHistoryEntry[],
});

/** Columns an update may change (PlanUpdate), by field name. */
const UPDATABLE: Record<keyof PlanUpdate, string> = {
  newNextPin: 'new_next_pin',
  switchAt: 'switch_at',
  stage1PinsetId: 'stage1_pinset_id',
  stage1RolloutId: 'stage1_rollout_id',
  stage2PinsetId: 'stage2_pinset_id',
  stage2RolloutId: 'stage2_rollout_id',
};

/** Guided rotation plans (lifecycle-schema.ts), PostgreSQL side of RotationPlanRepo. */
export class PgRotationPlans implements RotationPlanRepo {
  constructor(private readonly db: Queryable) {}

  async insert(p: NewPlan): Promise<RotationPlanRow> {
    const [row] = await rows<PlanRaw>(
      this.db,
      `insert into rotation_plans (fleet, host, port, current_pin, next_pin, backup_pin, target, switch_at, step, history, created_at, created_by, updated_at)
       values ($1, $2, $3, $4, $5, $6, $7, $8, 'planned', '[]', $9, $10, $9) returning ${PLAN_COLUMNS}`,
      [p.fleet, p.host, p.port, p.currentPin, p.nextPin, p.backupPin, Math.round(p.target * 100), p.switchAt, p.createdAt, p.createdBy],
    );
    if (row === undefined) throw new Error('rotation plan insert returned nothing');
    return planFromRaw(row);
  }

  async get(id: number): Promise<RotationPlanRow | undefined> {
    const [row] = await rows<PlanRaw>(this.db, `select ${PLAN_COLUMNS} from rotation_plans where id = $1`, [id]);
    return row === undefined ? undefined : planFromRaw(row);
  }

  async list(filter: { fleet?: string; host?: string } = {}): Promise<RotationPlanRow[]> {
    const list = await rows<PlanRaw>(
      this.db,
      `select ${PLAN_COLUMNS} from rotation_plans where ($1::text is null or fleet = $1) and ($2::text is null or host = $2) order by id desc limit 200`,
      [filter.fleet ?? null, filter.host ?? null],
    );
    return list.map(planFromRaw);
  }

  /**
   * One UPDATE … RETURNING: the history is appended to the row's current value under the row lock the UPDATE
   * takes, so two gateways moving the same plan cannot lose each other's entry (READ COMMITTED re-reads the row).
   */
  async update(id: number, changes: PlanUpdate, step: PlanStep, entry: PlanHistoryEntry): Promise<RotationPlanRow | undefined> {
    const args: unknown[] = [id, step, JSON.stringify([entry]), entry.at];
    const sets = ['step = $2', 'history = (history::jsonb || $3::jsonb)::text', 'updated_at = $4'];
    for (const [field, column] of Object.entries(UPDATABLE) as [keyof PlanUpdate, string][]) {
      if (field in changes) sets.push(`${column} = $${args.push(changes[field] ?? null)}`);
    }
    const [row] = await rows<PlanRaw>(this.db, `update rotation_plans set ${sets.join(', ')} where id = $1 returning ${PLAN_COLUMNS}`, args);
    return row === undefined ? undefined : planFromRaw(row);
  }
}
