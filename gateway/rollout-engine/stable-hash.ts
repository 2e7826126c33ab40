/**
 * Deterministic 32-bit hash for ordering devices inside a rollout (SPEC §7 waves). Pure JS (no node:crypto) so
 * the dashboard can preview a plan with the same order. Not a security primitive.
 */

const encoder = new TextEncoder();

/** FNV-1a over UTF-8 bytes followed by the murmur3 fmix32 finaliser (spreads nearby ids). */
export function stableHash32(text: string): number {
  let h = 0x811c9dc5;
  let ascii = true;
  // ASCII text (every id in practice) is its own UTF-8: hashed without encoding it first (the encoder's copy was
  // 3 % of a 1,000,000-device rollout, docs/million.md); any other text through the encoder, same bytes, same hash
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0x80) {
      ascii = false;
      break;
    }
    h ^= c;
    h = Math.imul(h, 0x01000193);
  }
  if (!ascii) {
    h = 0x811c9dc5;
    for (const b of encoder.encode(text)) {
      h ^= b;
      h = Math.imul(h, 0x01000193);
    }
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Position of a device in a rollout's order: per rollout, so canaries differ between rollouts. */
export function rolloutRank(rolloutId: string, deviceId: string): number {
  return stableHash32(`${rolloutId}\u0000${deviceId}`);
}

/**
 * Total order on device ids for a rollout: rank, then id (ties are possible with 32 bits). Ranks are computed
 * once per id and cached in the returned comparator, so sorting n ids hashes n times, not n log n.
 */
export function compareByRank(rolloutId: string): (a: string, b: string) => number {
  const cache = new Map<string, number>();
  const rank = (id: string): number => {
    let r = cache.get(id);
    if (r === undefined) {
      r = rolloutRank(rolloutId, id);
      cache.set(id, r);
    }
    return r;
  };
  return (a, b) => {
    const ra = rank(a);
    const rb = rank(b);
    if (ra !== rb) return ra - rb;
    return a < b ? -1 : a > b ? 1 : 0;
  };
}
