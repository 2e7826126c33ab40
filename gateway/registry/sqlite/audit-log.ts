import { desc, lt, sql } from 'drizzle-orm';
import type { RegistryDb } from './open';
import { auditLog } from './schema';
import type { Clock } from '../../clock';
import type { AuditEntry, Page } from '../rows';

/** Append-only record of every operator and publisher action (and the gateway's own flags). */
export class AuditLog {
  private readonly insert;

  constructor(
    private readonly db: RegistryDb,
    private readonly clock: Clock,
  ) {
    this.insert = db
      .insert(auditLog)
      .values({
        at: sql.placeholder('at'),
        actor: sql.placeholder('actor'),
        action: sql.placeholder('action'),
        target: sql.placeholder('target'),
        detail: sql.placeholder('detail'),
      })
      .prepare();
  }

  append(actor: string, action: string, target: string | null, detail?: Record<string, unknown>): void {
    this.insert.run({ at: this.clock.now(), actor, action, target, detail: detail ?? null });
  }

  /** Newest first; `cursor` is the id of the last entry of the previous page. */
  list(limit: number, cursor?: number): Page<AuditEntry> {
    const rows = this.db
      .select()
      .from(auditLog)
      .where(cursor === undefined ? undefined : lt(auditLog.id, cursor))
      .orderBy(desc(auditLog.id))
      .limit(limit + 1)
      .all();
    const items = rows.slice(0, limit);
    const last = items[items.length - 1];
    return { items, nextCursor: rows.length > limit && last ? String(last.id) : null };
  }
}
