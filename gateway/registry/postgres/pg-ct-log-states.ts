import type { CtLogStateRepo, CtLogStateRow } from '../ct-log-state-repo';
import { rows, type Queryable } from './pg-pool';

const COLUMNS = `log, tree_size as "treeSize", root, frontier, certificates, updated_at as "updatedAt"`;

/** The CT watch's progress per log on PostgreSQL, shared by every replica (replica-state-schema.ts). */
export class PgCtLogStates implements CtLogStateRepo {
  constructor(private readonly db: Queryable) {}

  async save(r: CtLogStateRow): Promise<void> {
    await rows(
      this.db,
      `insert into ct_log_states (log, tree_size, root, frontier, certificates, updated_at) values ($1, $2, $3, $4, $5, $6)
       on conflict (log) do update set tree_size = excluded.tree_size, root = excluded.root, frontier = excluded.frontier,
         certificates = excluded.certificates, updated_at = excluded.updated_at
       where ct_log_states.tree_size <= excluded.tree_size`,
      [r.log, r.treeSize, r.root, r.frontier, r.certificates, r.updatedAt],
    );
  }

  async list(): Promise<CtLogStateRow[]> {
    return rows<CtLogStateRow>(this.db, `select ${COLUMNS} from ct_log_states order by log`);
  }
}
