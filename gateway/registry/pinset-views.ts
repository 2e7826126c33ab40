import type { PinSetJson } from '../../shared/index';
import type { PinSetView } from '../coverage/index';
import type { PinSetRow, PinSetStore } from './pinset-store';

/** The parts of a stored pin set that coverage needs (SPEC §2 hosts + failOpenAfter), as the pure helpers take them. */
export function pinSetView(row: Pick<PinSetRow, 'json'>): PinSetView {
  const json = row.json as PinSetJson;
  const hosts = json.hosts.map((h) => ({ name: h.name.toLowerCase(), includeSubdomains: h.includeSubdomains, pins: h.pins, enforce: h.enforce }));
  return json.failOpenAfter === undefined ? { hosts } : { hosts, failOpenAfter: json.failOpenAfter };
}

/**
 * Pin sets are immutable once stored, so their views are cached by envelope SHA-256 (the key the device rows
 * carry). A SHA-256 the gateway never issued maps to null (the device holds something we cannot read).
 */
export class PinSetViews {
  private readonly cache = new Map<string, { view: PinSetView; row: PinSetRow } | null>();

  constructor(private readonly pinsets: PinSetStore) {}

  bySha256(sha256: string): { view: PinSetView; row: PinSetRow } | null {
    const hit = this.cache.get(sha256);
    if (hit !== undefined) return hit;
    const row = this.pinsets.getBySha256(sha256);
    const entry = row === undefined ? null : { view: pinSetView(row), row };
    // unknown hashes are not cached: the pin set may be created later (a device flagged now, issued afterwards is impossible, but cheap to allow)
    if (entry !== null) this.cache.set(sha256, entry);
    return entry;
  }
}
