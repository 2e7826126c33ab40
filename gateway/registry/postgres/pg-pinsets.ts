import type { PinSetRepo } from '../repositories';
import type { NewPinSet, PinSetRow } from '../rows';
import { rows, run, type Queryable } from './pg-pool';

interface RawPinSet {
  id: number;
  fleet: string;
  seq: number;
  envelope: Buffer;
  sha256: string;
  json: string;
  keyset_version: number;
  not_after: number;
  source: string;
  created_at: number;
  created_by: string;
  released_at: number | null;
}

const toPinSet = (r: RawPinSet): PinSetRow => ({
  id: r.id,
  fleet: r.fleet,
  seq: r.seq,
  envelope: r.envelope,
  sha256: r.sha256,
  json: JSON.parse(r.json) as unknown,
  keysetVersion: r.keyset_version,
  notAfter: r.not_after,
  source: r.source,
  createdAt: r.created_at,
  createdBy: r.created_by,
  releasedAt: r.released_at,
});

/** Signed pin sets on PostgreSQL, one row per (fleet, seq); ids from an identity column. */
export class PgPinSets implements PinSetRepo {
  constructor(private readonly db: Queryable) {}

  private async one(where: string, args: unknown[], name?: string): Promise<PinSetRow | undefined> {
    const [r] = await rows<RawPinSet>(this.db, `select * from pinsets where ${where}`, args, name);
    return r === undefined ? undefined : toPinSet(r);
  }

  async insert(p: NewPinSet): Promise<PinSetRow | undefined> {
    const [r] = await rows<RawPinSet>(
      this.db,
      `insert into pinsets (fleet, seq, envelope, sha256, json, keyset_version, not_after, source, created_at, created_by, released_at)
       values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) on conflict do nothing returning *`,
      [p.fleet, p.seq, p.envelope, p.sha256, JSON.stringify(p.json), p.keysetVersion, p.notAfter, p.source, p.createdAt, p.createdBy, p.releasedAt ?? null],
    );
    return r === undefined ? undefined : toPinSet(r);
  }

  get(id: number) {
    return this.one('id = $1', [id], 'pinsets_get');
  }

  getByFleetSeq(fleet: string, seq: number) {
    return this.one('fleet = $1 and seq = $2', [fleet, seq], 'pinsets_fleet_seq');
  }

  getBySha256(sha256: string) {
    return this.one('sha256 = $1', [sha256], 'pinsets_sha');
  }

  async maxSeq(fleet: string): Promise<number> {
    const [r] = await rows<{ max: number | null }>(this.db, 'select max(seq) as max from pinsets where fleet = $1', [fleet]);
    return r?.max ?? 0;
  }

  latestReleasedFor(fleet: string) {
    return this.one('fleet = $1 and released_at is not null order by seq desc limit 1', [fleet], 'pinsets_released');
  }

  async markReleased(id: number, at: number): Promise<void> {
    await run(this.db, 'update pinsets set released_at = $2 where id = $1 and released_at is null', [id, at]);
  }

  async list(fleet?: string): Promise<PinSetRow[]> {
    const list =
      fleet === undefined
        ? await rows<RawPinSet>(this.db, 'select * from pinsets order by fleet, seq desc')
        : await rows<RawPinSet>(this.db, 'select * from pinsets where fleet = $1 order by fleet, seq desc', [fleet]);
    return list.map(toPinSet);
  }

  async latestSeqByFleet(): Promise<Map<string, number>> {
    const list = await rows<{ fleet: string; seq: number }>(this.db, 'select fleet, max(seq) as seq from pinsets group by fleet');
    return new Map(list.map((r) => [r.fleet, r.seq]));
  }

  async ackCounts(id: number): Promise<Record<string, number>> {
    const list = await rows<{ status: string; count: number }>(this.db, 'select status, count from pinset_ack_counts where pinset_id = $1', [id]);
    return Object.fromEntries(list.map((r) => [r.status, r.count]));
  }
}
