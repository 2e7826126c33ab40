import type { NewPlan, PlanHistoryEntry, PlanStep, PlanUpdate, RotationPlanRow } from '../lifecycle-rows';
import type { RegistryDb } from './open';

interface Raw {
  id: number; fleet: string; host: string; port: number | null; current_pin: string; next_pin: string; backup_pin: string;
  new_next_pin: string | null; target: number; switch_at: number | null; step: string; history: string; stage1_pinset_id: number | null;
  stage1_rollout_id: string | null; stage2_pinset_id: number | null; stage2_rollout_id: string | null; created_at: number; created_by: string; updated_at: number;
}

const fromRaw = (r: Raw): RotationPlanRow => ({
  id: r.id, fleet: r.fleet, host: r.host, port: r.port, currentPin: r.current_pin, nextPin: r.next_pin, backupPin: r.backup_pin,
  newNextPin: r.new_next_pin, target: r.target / 100, switchAt: r.switch_at, step: r.step as PlanStep,
  history: JSON.parse(r.history) as PlanHistoryEntry[], stage1PinsetId: r.stage1_pinset_id, stage1RolloutId: r.stage1_rollout_id,
  stage2PinsetId: r.stage2_pinset_id, stage2RolloutId: r.stage2_rollout_id, createdAt: r.created_at, createdBy: r.created_by, updatedAt: r.updated_at,
});

/** Guided rotation plans (table rotation_plans, lifecycle-schema.ts), SQLite side of RotationPlanRepo. */
export class RotationPlanStore {
  constructor(private readonly db: RegistryDb) {}

  insert(p: NewPlan): RotationPlanRow {
    const raw = this.db.$client
      .prepare<unknown[], Raw>(
        `insert into rotation_plans (fleet, host, port, current_pin, next_pin, backup_pin, target, switch_at, step, history, created_at, created_by, updated_at)
         values (?, ?, ?, ?, ?, ?, ?, ?, 'planned', '[]', ?, ?, ?) returning *`,
      )
      .get(p.fleet, p.host, p.port, p.currentPin, p.nextPin, p.backupPin, Math.round(p.target * 100), p.switchAt, p.createdAt, p.createdBy, p.createdAt);
    if (raw === undefined) throw new Error('rotation plan insert returned nothing');
    return fromRaw(raw);
  }

  get(id: number): RotationPlanRow | undefined {
    const raw = this.db.$client.prepare<[number], Raw>('select * from rotation_plans where id = ?').get(id);
    return raw === undefined ? undefined : fromRaw(raw);
  }

  list(filter: { fleet?: string; host?: string } = {}): RotationPlanRow[] {
    return this.db.$client
      .prepare<(string | null)[], Raw>(
        'select * from rotation_plans where (? is null or fleet = ?) and (? is null or host = ?) order by id desc limit 200',
      )
      .all(filter.fleet ?? null, filter.fleet ?? null, filter.host ?? null, filter.host ?? null)
      .map(fromRaw);
  }

  // read and write in one synchronous call: nothing else runs on the connection in between (SqliteGate)
  update(id: number, changes: PlanUpdate, step: PlanStep, entry: PlanHistoryEntry): RotationPlanRow | undefined {
    const cur = this.get(id);
    if (cur === undefined) return undefined;
    const n = { ...cur, ...changes };
    this.db.$client
      .prepare(
        `update rotation_plans set new_next_pin = ?, switch_at = ?, stage1_pinset_id = ?, stage1_rollout_id = ?, stage2_pinset_id = ?, stage2_rollout_id = ?,
         step = ?, history = ?, updated_at = ? where id = ?`,
      )
      .run(n.newNextPin, n.switchAt, n.stage1PinsetId, n.stage1RolloutId, n.stage2PinsetId, n.stage2RolloutId, step, JSON.stringify([...cur.history, entry]), entry.at, id);
    return this.get(id);
  }
}
