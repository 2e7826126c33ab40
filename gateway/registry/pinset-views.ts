import type { PinSetJson } from '../../shared/index';
import type { PinSetView } from '../coverage/index';
import type { PinSetRow } from './rows';

/** The parts of a stored pin set that coverage needs (SPEC §2 hosts + failOpenAfter), as the pure helpers take them. */
export function pinSetView(row: Pick<PinSetRow, 'json'>): PinSetView {
  const json = row.json as PinSetJson;
  const hosts = json.hosts.map((h) => ({ name: h.name.toLowerCase(), includeSubdomains: h.includeSubdomains, pins: h.pins, enforce: h.enforce }));
  return json.failOpenAfter === undefined ? { hosts } : { hosts, failOpenAfter: json.failOpenAfter };
}

export interface PinSetViewEntry {
  view: PinSetView;
  row: PinSetRow;
}

/**
 * Pin sets are immutable once stored, so their views are cached by envelope SHA-256 (the key the device rows
 * carry). A SHA-256 the gateway never issued maps to null (the device holds something we cannot read); unknown
 * hashes are not cached (the set may be stored later).
 */
export class PinSetViews {
  private readonly cache = new Map<string, PinSetViewEntry>();

  constructor(private readonly load: (sha256: string) => Promise<PinSetRow | undefined>) {}

  /** A cached view, without a read (null when not cached yet). */
  cached(sha256: string): PinSetViewEntry | null {
    return this.cache.get(sha256) ?? null;
  }

  /** `load` overrides where a miss is read from (a transaction reads through its own connection). */
  async bySha256(sha256: string, load = this.load): Promise<PinSetViewEntry | null> {
    const hit = this.cache.get(sha256);
    if (hit !== undefined) return hit;
    const row = await load(sha256);
    if (row === undefined) return null;
    const entry = { view: pinSetView(row), row };
    this.cache.set(sha256, entry);
    return entry;
  }
}

/** The synchronous twin for a store that reads synchronously (the SQLite implementation's counters). */
export class SyncPinSetViews {
  private readonly cache = new Map<string, PinSetViewEntry>();

  constructor(private readonly load: (sha256: string) => PinSetRow | undefined) {}

  bySha256(sha256: string): PinSetViewEntry | null {
    const hit = this.cache.get(sha256);
    if (hit !== undefined) return hit;
    const row = this.load(sha256);
    if (row === undefined) return null;
    const entry = { view: pinSetView(row), row };
    this.cache.set(sha256, entry);
    return entry;
  }
}
