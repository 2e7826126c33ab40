import type { RegistryDb } from '../db/open';

/**
 * The decommission flag of a device row, both ways (the devices table already has the column; SPEC §8 coverage
 * reads it through the counters). Callers keep the counters in step:
 * `coverage.withReconcile(id, () => store.set(id, true))`. Returns whether the row changed.
 */
export class DecommissionStore {
  private readonly update;

  constructor(db: RegistryDb) {
    this.update = db.$client.prepare<[number, number, string, number]>(
      `update devices set decommissioned = ?, online = case when ? = 1 then 0 else online end where id = ? and decommissioned != ?`,
    );
  }

  set(deviceId: string, decommissioned: boolean): boolean {
    const v = decommissioned ? 1 : 0;
    return this.update.run(v, v, deviceId, v).changes === 1;
  }
}
