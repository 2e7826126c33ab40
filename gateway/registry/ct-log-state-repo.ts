/**
 * The storage contract for the CT watch's progress in each log (issue 13: it used to live in the leader's memory,
 * so a new leader re-read every log from entry 0 and a follower had no certificates to classify a mismatch with).
 * One row per log: the verified tree size, its root, the Merkle frontier (JSON, MerkleFrontier.toJSON) and the
 * certificates kept for our names (JSON). Implemented in registry/sqlite/ct-log-state-store.ts and
 * registry/postgres/pg-ct-log-states.ts.
 */
export interface CtLogStateRow {
  log: string;
  treeSize: number;
  /** base64 of the verified root at treeSize. */
  root: string;
  frontier: string;
  certificates: string;
  updatedAt: number;
}

export interface CtLogStateRepo {
  /** Keeps `row` for its log unless a larger tree is already kept (a slower run on another replica never goes back). */
  save(row: CtLogStateRow): Promise<void>;
  list(): Promise<CtLogStateRow[]>;
}
