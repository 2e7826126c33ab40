import { and, desc, eq, isNotNull, sql } from 'drizzle-orm';
import type { RegistryDb } from './open';
import { pinsetAckCounts, pinsets } from './schema';
import type { NewPinSet, PinSetRow } from '../rows';

/** Signed pin sets, one row per (fleet, seq); the envelope bytes are what devices receive. */
export class PinSetStore {
  private readonly byId;
  private readonly byFleetSeq;
  private readonly latestReleased;
  private readonly bySha256;

  constructor(private readonly db: RegistryDb) {
    this.byId = db.select().from(pinsets).where(eq(pinsets.id, sql.placeholder('id'))).prepare();
    this.byFleetSeq = db
      .select()
      .from(pinsets)
      .where(and(eq(pinsets.fleet, sql.placeholder('fleet')), eq(pinsets.seq, sql.placeholder('seq'))))
      .prepare();
    this.bySha256 = db.select().from(pinsets).where(eq(pinsets.sha256, sql.placeholder('sha256'))).prepare();
    this.latestReleased = db
      .select()
      .from(pinsets)
      .where(and(eq(pinsets.fleet, sql.placeholder('fleet')), isNotNull(pinsets.releasedAt)))
      .orderBy(desc(pinsets.seq))
      .limit(1)
      .prepare();
  }

  insert(p: NewPinSet): PinSetRow | undefined {
    return this.db.insert(pinsets).values(p).onConflictDoNothing().returning().get();
  }

  get(id: number): PinSetRow | undefined {
    return this.byId.get({ id });
  }

  getByFleetSeq(fleet: string, seq: number): PinSetRow | undefined {
    return this.byFleetSeq.get({ fleet, seq });
  }

  getBySha256(sha256: string): PinSetRow | undefined {
    return this.bySha256.get({ sha256 });
  }

  maxSeq(fleet: string): number {
    const row = this.db.select({ max: sql<number | null>`max(${pinsets.seq})` }).from(pinsets).where(eq(pinsets.fleet, fleet)).get();
    return row?.max ?? 0;
  }

  /** The newest pin set released to the whole fleet, if any. */
  latestReleasedFor(fleet: string): PinSetRow | undefined {
    return this.latestReleased.get({ fleet });
  }

  markReleased(id: number, at: number): void {
    this.db.update(pinsets).set({ releasedAt: at }).where(and(eq(pinsets.id, id), sql`${pinsets.releasedAt} is null`)).run();
  }

  list(fleet?: string): PinSetRow[] {
    return this.db
      .select()
      .from(pinsets)
      .where(fleet === undefined ? undefined : eq(pinsets.fleet, fleet))
      .orderBy(pinsets.fleet, desc(pinsets.seq))
      .all();
  }

  latestSeqByFleet(): Map<string, number> {
    const rows = this.db.select({ fleet: pinsets.fleet, seq: sql<number>`max(${pinsets.seq})` }).from(pinsets).groupBy(pinsets.fleet).all();
    return new Map(rows.map((r) => [r.fleet, r.seq]));
  }

  ackCounts(id: number): Record<string, number> {
    const rows = this.db.select().from(pinsetAckCounts).where(eq(pinsetAckCounts.pinsetId, id)).all();
    return Object.fromEntries(rows.map((r) => [r.status, r.count]));
  }
}
