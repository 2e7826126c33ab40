import type { RegistryDb } from './open';
import type { RolloutRow } from '../repositories';
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

/** The active kinds as an SQL list (literals from the engine's closed union, never user input). */
const ACTIVE_SQL = ACTIVE_EXECUTION_KINDS.map((k) => `'${k}'`).join(', ');

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

interface RawExecution {
  rollout_id: string;
  device_id: string;
  wave: number;
  state: string;
  enrolled_at: number;
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

const COLUMNS = 'id, fleet, pinset_id, seq, state, snapshot, warnings, last_gate, created_at, created_by, updated_at';

/**
 * Rollouts and their executions (SPEC §7). `save` writes a snapshot and its changed executions in one
 * transaction: a restarted gateway loads exactly what the engine last returned.
 */
export class RolloutStore {
  private readonly byId;
  private readonly insertStmt;
  private readonly updateStmt;
  private readonly upsertExec;
  private readonly execsOf;
  private readonly countsOf;
  private readonly saveTx;
  private readonly owns;
  private readonly acksOf;
  private readonly nextIdStmt;

  constructor(private readonly db: RegistryDb) {
    const c = db.$client;
    this.nextIdStmt = c.prepare<[], { n: number }>(
      `insert into id_counters (name, n) values ('rollout', 1) on conflict (name) do update set n = id_counters.n + 1 returning n`,
    );
    this.byId = c.prepare<[string], RawRollout>(`select ${COLUMNS} from rollouts where id = ?`);
    this.insertStmt = c.prepare(
      `insert into rollouts (${COLUMNS}) values (@id, @fleet, @pinsetId, @seq, @state, @snapshot, @warnings, null, @createdAt, @createdBy, @createdAt)`,
    );
    this.updateStmt = c.prepare<[string, string, string | null, number, string]>(
      `update rollouts set state = ?, snapshot = ?, last_gate = coalesce(?, last_gate), updated_at = ? where id = ?`,
    );
    this.upsertExec = c.prepare<[string, string, number, string, string, number, number]>(
      `insert into rollout_executions (rollout_id, device_id, wave, kind, state, enrolled_at, updated_at) values (?, ?, ?, ?, ?, ?, ?)
       on conflict (rollout_id, device_id) do update set wave = excluded.wave, kind = excluded.kind, state = excluded.state, updated_at = excluded.updated_at`,
    );
    this.execsOf = c.prepare<[string], RawExecution>(`select rollout_id, device_id, wave, state, enrolled_at from rollout_executions where rollout_id = ?`);
    this.countsOf = c.prepare<[string], { wave: number; kind: string; n: number }>(
      `select wave, kind, count(*) as n from rollout_executions where rollout_id = ? group by wave, kind`,
    );
    this.owns = c.prepare<[number], { one: number }>(`select 1 as one from rollouts where pinset_id = ? and state <> 'COMPLETED' limit 1`);
    this.acksOf = c.prepare<[string, string, number], { status: string; code: string | null }>(
      `select status, code from acks where device_id = ? and sha256 = ? and received_at >= ? order by id`,
    );
    this.saveTx = c.transaction((rollout: RolloutSnapshot, executions: readonly ExecutionRecord[], lastGate: string | null, at: number) => {
      this.updateStmt.run(rollout.state.kind, serializeSnapshot(rollout), lastGate, at, rollout.id);
      for (const e of executions) {
        this.upsertExec.run(e.rolloutId, e.deviceId, e.wave, e.state.kind, JSON.stringify(e.state), e.enrolledAt, at);
      }
    });
  }

  insert(r: { snapshot: RolloutSnapshot; pinsetId: number; warnings: readonly string[]; createdBy: string }): void {
    const s = r.snapshot;
    this.insertStmt.run({
      id: s.id,
      fleet: s.fleet,
      pinsetId: r.pinsetId,
      seq: s.seq,
      state: s.state.kind,
      snapshot: serializeSnapshot(s),
      warnings: JSON.stringify(r.warnings),
      createdAt: s.createdAt,
      createdBy: r.createdBy,
    });
  }

  /**
   * The next rollout id: `r1`, `r2`, … (deterministic, so a wave's ranking is reproducible in tests), from a
   * counter row incremented in one statement (never count(*)+1, which two writers would both read).
   */
  nextId(): string {
    const row = this.nextIdStmt.get();
    return `r${row?.n ?? 1}`;
  }

  get(id: string): RolloutRow | undefined {
    const r = this.byId.get(id);
    return r === undefined ? undefined : toRow(r);
  }

  list(filter: { fleet?: string; state?: string } = {}): RolloutRow[] {
    const where: string[] = [];
    const args: string[] = [];
    if (filter.fleet !== undefined) {
      where.push('fleet = ?');
      args.push(filter.fleet);
    }
    if (filter.state !== undefined) {
      where.push('state = ?');
      args.push(filter.state);
    }
    const sql = `select ${COLUMNS} from rollouts ${where.length > 0 ? `where ${where.join(' and ')}` : ''} order by created_at desc, rowid desc`;
    return this.db.$client.prepare<string[], RawRollout>(sql).all(...args).map(toRow);
  }

  /** Rollouts the driver must run: RUNNING / PAUSED, and finished ones with executions still in flight (stragglers). */
  active(): RolloutRow[] {
    const rows = this.db.$client
      .prepare<[], RawRollout>(
        `select ${COLUMNS} from rollouts where state in ('RUNNING', 'PAUSED')
         or (state = 'COMPLETED' and exists (select 1 from rollout_executions e where e.rollout_id = rollouts.id and e.kind in (${ACTIVE_SQL})))
         order by created_at, rowid`,
      )
      .all();
    return rows.map(toRow);
  }

  executions(rolloutId: string): ExecutionRecord[] {
    return this.execsOf.all(rolloutId).map((e) => ({
      rolloutId: e.rollout_id,
      deviceId: e.device_id,
      wave: e.wave,
      enrolledAt: e.enrolled_at,
      state: JSON.parse(e.state) as ExecutionState,
    }));
  }

  /** Persists a step's result: snapshot + changed executions (+ the last gate decision) in one transaction. */
  save(rollout: RolloutSnapshot, executions: readonly ExecutionRecord[], at: number, lastGate?: Record<string, unknown>): void {
    this.saveTx(rollout, executions, lastGate === undefined ? null : JSON.stringify(lastGate), at);
  }

  /** Execution counts per state, overall and per wave, from the covering index (no row is read). */
  summary(rolloutId: string): ExecutionSummary {
    const zero = zeroExecutionCounts;
    const byKind = zero();
    const byWave: Record<ExecutionKind, number>[] = [];
    let total = 0;
    for (const r of this.countsOf.all(rolloutId)) {
      const kind = r.kind as ExecutionKind;
      while (byWave.length <= r.wave) byWave.push(zero());
      (byWave[r.wave] as Record<ExecutionKind, number>)[kind] += r.n;
      byKind[kind] += r.n;
      total += r.n;
    }
    return { total, byKind, byWave };
  }

  /** True when a rollout that is not COMPLETED owns the pin set (its devices get it only from the rollout). */
  ownsPinSet(pinsetId: number): boolean {
    return this.owns.get(pinsetId) !== undefined;
  }

  /** Acks a device sent for an envelope since `sinceMs` (a restarted driver catches up on acks it had not applied). */
  acksSince(deviceId: string, sha256: string, sinceMs: number): { status: string; code: string | null }[] {
    return this.acksOf.all(deviceId, sha256, sinceMs);
  }
}
