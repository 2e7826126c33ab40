import { asc, desc, gt, sql } from 'drizzle-orm';
import type { RegistryDb } from './open';
import { keysets } from './schema';
import type { KeysetRow } from '../rows';

/** Signer keysets (SPEC §5); the highest version is the one the gateway trusts now. */
export class KeysetStore {
  /** Prepared once: every hello asks it (SPEC §5 keyset push); built per call it cost 5 % of a million-device run. */
  private readonly newer;

  constructor(private readonly db: RegistryDb) {
    this.newer = db.select().from(keysets).where(gt(keysets.version, sql.placeholder('version'))).orderBy(asc(keysets.version)).prepare();
  }

  current(): KeysetRow | undefined {
    return this.db.select().from(keysets).orderBy(desc(keysets.version)).limit(1).get();
  }

  insert(row: KeysetRow): void {
    this.db.insert(keysets).values(row).run();
  }

  /** Signed keyset documents newer than `version`, oldest first (a device accepts current + 1 only). */
  newerThan(version: number): KeysetRow[] {
    return this.newer.all({ version });
  }

  list(): KeysetRow[] {
    return this.db.select().from(keysets).orderBy(asc(keysets.version)).all();
  }
}
