import type { KillMode } from '../../../shared/index';
import type { KillCoverageCounts, KillSwitchRow, NewKillSwitch } from '../lifecycle-rows';
import type { RegistryDb } from './open';

interface Raw {
  id: number; fleet: string; host: string; mode: string; reason: string; pinset_id: number; seq: number; base_seq: number;
  source: string; superseded_rollouts: string; created_at: number; created_by: string;
}

const fromRaw = (r: Raw): KillSwitchRow => ({
  id: r.id, fleet: r.fleet, host: r.host, mode: r.mode as KillMode, reason: r.reason, pinsetId: r.pinset_id, seq: r.seq,
  baseSeq: r.base_seq, source: r.source as 'gateway' | 'offline', supersededRollouts: JSON.parse(r.superseded_rollouts) as string[],
  createdAt: r.created_at, createdBy: r.created_by,
});

/** Kill switches engaged (table kill_switches, lifecycle-schema.ts), SQLite side of KillSwitchRepo. */
export class KillSwitchStore {
  constructor(private readonly db: RegistryDb) {}

  insert(r: NewKillSwitch): KillSwitchRow {
    const raw = this.db.$client
      .prepare<unknown[], Raw>(
        `insert into kill_switches (fleet, host, mode, reason, pinset_id, seq, base_seq, source, superseded_rollouts, created_at, created_by)
         values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) returning *`,
      )
      .get(r.fleet, r.host, r.mode, r.reason, r.pinsetId, r.seq, r.baseSeq, r.source, JSON.stringify(r.supersededRollouts), r.createdAt, r.createdBy);
    if (raw === undefined) throw new Error('kill switch insert returned nothing');
    return fromRaw(raw);
  }

  get(id: number): KillSwitchRow | undefined {
    const raw = this.db.$client.prepare<[number], Raw>('select * from kill_switches where id = ?').get(id);
    return raw === undefined ? undefined : fromRaw(raw);
  }

  list(fleet?: string, limit = 100): KillSwitchRow[] {
    const rows =
      fleet === undefined
        ? this.db.$client.prepare<[number], Raw>('select * from kill_switches order by id desc limit ?').all(limit)
        : this.db.$client.prepare<[string, number], Raw>('select * from kill_switches where fleet = ? order by id desc limit ?').all(fleet, limit);
    return rows.map(fromRaw);
  }

  /** One pass over the fleet's device rows (index devices_fleet_idx; decommissioned excluded, SPEC §8). */
  coverage(fleet: string, seq: number): KillCoverageCounts {
    const r = this.db.$client
      .prepare<[number, number, string], { total: number; online: number | null; have: number | null; online_have: number | null }>(
        `select count(*) as total, sum(online) as online, sum(installed_seq >= ?) as have, sum(online = 1 and installed_seq >= ?) as online_have
         from devices where fleet = ? and decommissioned = 0`,
      )
      .get(seq, seq, fleet);
    return { total: r?.total ?? 0, online: r?.online ?? 0, have: r?.have ?? 0, onlineHave: r?.online_have ?? 0 };
  }
}
