import type { CtLogStateRow } from '../ct-log-state-repo';
import type { RegistryDb } from './open';

const COLUMNS = 'log, tree_size as treeSize, root, frontier, certificates, updated_at as updatedAt';

/** The CT watch's progress per log on SQLite (replica-state-schema.ts). */
export class CtLogStateStore {
  constructor(private readonly db: RegistryDb) {}

  save(r: CtLogStateRow): void {
    this.db.$client
      .prepare(
        `insert into ct_log_states (log, tree_size, root, frontier, certificates, updated_at) values (?, ?, ?, ?, ?, ?)
         on conflict (log) do update set tree_size = excluded.tree_size, root = excluded.root, frontier = excluded.frontier,
           certificates = excluded.certificates, updated_at = excluded.updated_at
         where ct_log_states.tree_size <= excluded.tree_size`,
      )
      .run(r.log, r.treeSize, r.root, r.frontier, r.certificates, r.updatedAt);
  }

  list(): CtLogStateRow[] {
    return this.db.$client.prepare<[], CtLogStateRow>(`select ${COLUMNS} from ct_log_states order by log`).all();
  }
}
