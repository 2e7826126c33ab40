import { and, desc, eq } from 'drizzle-orm';
import type { RegistryDb } from './open';
import { rotations } from './schema';
import type { NewRotation, RotationRow } from '../rows';

/** Recorded server key rotations (SPEC §8): what was switched, whether the gate was met or forced, and why. */
export class RotationStore {
  constructor(private readonly db: RegistryDb) {}

  insert(r: NewRotation): RotationRow {
    return this.db.insert(rotations).values(r).returning().get();
  }

  list(filter: { fleet?: string; host?: string }, limit: number): RotationRow[] {
    const where = [
      ...(filter.fleet === undefined ? [] : [eq(rotations.fleet, filter.fleet)]),
      ...(filter.host === undefined ? [] : [eq(rotations.host, filter.host)]),
    ];
    return this.db
      .select()
      .from(rotations)
      .where(where.length > 0 ? and(...where) : undefined)
      .orderBy(desc(rotations.id))
      .limit(limit)
      .all();
  }
}
