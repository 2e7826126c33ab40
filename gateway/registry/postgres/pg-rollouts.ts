import {
  ACTIVE_EXECUTION_KINDS,
  zeroExecutionCounts,
  parseSnapshot,
  serializeSnapshot,
  type ExecutionKind,
  type ExecutionRecord,
  type ExecutionState,
  type ExecutionSummary,
  type RolloutSnapshot,
} from '../../rollout-engine/index';
import type { RolloutRepo, RolloutRow } from '../repositories';
import { rows, run, type Queryable } from './pg-pool';

interface RawRollout {
  id: string;
  fleet: string;
  pinset_id: number;
  seq: number;
  state: string;
  snapshot: string;
  warnings: string;
  last_gate: string | null;
  created_at: number;
  created_by: string;
  updated_at: number;
}

function toRow(r: RawRollout): RolloutRow {
  const parsed = parseSnapshot(r.snapshot);
  if (!parsed.ok) throw new Error(`rollout ${r.id}: stored snapshot is unreadable: ${parsed.error}`);
  return {
    id: r.id,
    fleet: r.fleet,
    pinsetId: r.pinset_id,
    seq: r.seq,
    state: r.state,
    snapshot: parsed.rollout,
    warnings: JSON.parse(r.warnings) as string[],
    lastGate: r.last_gate === null ? null : (JSON.parse(r.last_gate) as Record<string, unknown>),
    createdAt: r.created_at,
    createdBy: r.created_by,
    updatedAt: r.updated_at,
  };
}

/** Rollouts are listed in creation order; ids are r1, r2, … so the number orders ties of created_at. */
const NEWEST_FIRST = 'order by created_at desc, length(id) desc, id desc';

/**
 * Rollouts and their executions on PostgreSQL. `save` writes the snapshot and all changed executions in one
 * multi-row upsert (unnest arrays): a wave that enrols thousands of devices is one statement.
 */
export class PgRollouts implements RolloutRepo {
  constructor(
    private readonly db: Queryable,
    /** Runs `fn` in a transaction when this repository is not inside one already (save is atomic). */
    private readonly atomically: <T>(fn: (r: PgRollouts) => Promise<T>) => Promise<T>,
  ) {}

  async insert(r: { snapshot: RolloutSnapshot; pinsetId: number; warnings: readonly string[]; createdBy: string }): Promise<void> {
    const s = r.snapshot;
    await run(
      this.db,
      `insert into rollouts (id, fleet, pinset_id, seq, state, snapshot, warnings, last_gate, created_at, created_by, updated_at)
       values ($1, $2, $3, $4, $5, $6, $7, null, $8, $9, $8)`,
      [s.id, s.fleet, r.pinsetId, s.seq, s.state.kind, serializeSnapshot(s), JSON.stringify(r.warnings), s.createdAt, r.createdBy],
    );
  }

  async nextId(): Promise<string> {
    // one statement takes the counter row's lock: two writers never get the same number
    const [r] = await rows<{ n: number }>(
      this.db,
      `insert into id_counters (name, n) values ('rollout', 1) on conflict (name) do update set n = id_counters.n + 1 returning n`,
    );
    return `r${r?.n ?? 1}`;
  }

  async get(id: string): Promise<RolloutRow | undefined> {
    const [r] = await rows<RawRollout>(this.db, 'select * from rollouts where id = $1', [id], 'rollouts_get');
    return r === undefined ? undefined : toRow(r);
  }

  async list(filter: { fleet?: string; state?: string } = {}): Promise<RolloutRow[]> {
    const args: unknown[] = [];
    const where: string[] = [];
    if (filter.fleet !== undefined) where.push(`fleet = $${args.push(filter.fleet)}`);
    if (filter.state !== undefined) where.push(`state = $${args.push(filter.state)}`);
    return (await rows<RawRollout>(this.db, `select * from rollouts ${where.length > 0 ? `where ${where.join(' and ')}` : ''} ${NEWEST_FIRST}`, args)).map(toRow);
  }

  async active(): Promise<RolloutRow[]> {
    const list = await rows<RawRollout>(
      this.db,
      `select * from rollouts where state in ('RUNNING', 'PAUSED')
       or (state = 'COMPLETED' and exists (select 1 from rollout_executions e where e.rollout_id = rollouts.id and e.kind = any($1::text[])))
       order by created_at, length(id), id`,
      [ACTIVE_EXECUTION_KINDS],
    );
    return list.map(toRow);
  }

  async executions(rolloutId: string): Promise<ExecutionRecord[]> {
    const list = await rows<{ device_id: string; wave: number; state: string; enrolled_at: number }>(
      this.db,
      'select device_id, wave, state, enrolled_at from rollout_executions where rollout_id = $1',
      [rolloutId],
    );
    return list.map((e) => ({ rolloutId, deviceId: e.device_id, wave: e.wave, enrolledAt: e.enrolled_at, state: JSON.parse(e.state) as ExecutionState }));
  }

  save(rollout: RolloutSnapshot, executions: readonly ExecutionRecord[], at: number, lastGate?: Record<string, unknown>): Promise<void> {
    return this.atomically(async (r) => {
      await run(
        r.db,
        'update rollouts set state = $1, snapshot = $2, last_gate = coalesce($3, last_gate), updated_at = $4 where id = $5',
        [rollout.state.kind, serializeSnapshot(rollout), lastGate === undefined ? null : JSON.stringify(lastGate), at, rollout.id],
        'rollouts_save',
      );
      if (executions.length === 0) return;
      await run(
        r.db,
        `insert into rollout_executions (rollout_id, device_id, wave, kind, state, enrolled_at, updated_at)
         select r, d, w, k, s, e, $7 from unnest($1::text[], $2::text[], $3::int[], $4::text[], $5::text[], $6::bigint[]) as t(r, d, w, k, s, e)
         on conflict (rollout_id, device_id) do update
           set wave = excluded.wave, kind = excluded.kind, state = excluded.state, updated_at = excluded.updated_at`,
        [
          executions.map((e) => e.rolloutId),
          executions.map((e) => e.deviceId),
          executions.map((e) => e.wave),
          executions.map((e) => e.state.kind),
          executions.map((e) => JSON.stringify(e.state)),
          executions.map((e) => e.enrolledAt),
          at,
        ],
        'rollouts_save_execs',
      );
    });
  }

  async summary(rolloutId: string): Promise<ExecutionSummary> {
    const zero = zeroExecutionCounts;
    const byKind = zero();
    const byWave: Record<ExecutionKind, number>[] = [];
    let total = 0;
    const list = await rows<{ wave: number; kind: string; n: number }>(
      this.db,
      'select wave, kind, count(*) as n from rollout_executions where rollout_id = $1 group by wave, kind',
      [rolloutId],
      'rollouts_summary',
    );
    for (const r of list) {
      const kind = r.kind as ExecutionKind;
      while (byWave.length <= r.wave) byWave.push(zero());
      (byWave[r.wave] as Record<ExecutionKind, number>)[kind] += r.n;
      byKind[kind] += r.n;
      total += r.n;
    }
    return { total, byKind, byWave };
  }

  async ownsPinSet(pinsetId: number): Promise<boolean> {
    const list = await rows(this.db, `select 1 from rollouts where pinset_id = $1 and state <> 'COMPLETED' limit 1`, [pinsetId], 'rollouts_owns');
    return list.length > 0;
  }

  async acksSince(deviceId: string, sha256: string, sinceMs: number): Promise<{ status: string; code: string | null }[]> {
    return rows(this.db, 'select status, code from acks where device_id = $1 and sha256 = $2 and received_at >= $3 order by id', [deviceId, sha256, sinceMs]);
  }
}
