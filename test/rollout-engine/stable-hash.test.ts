import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { stableHash32 } from '../../gateway/rollout-engine/stable-hash';

/** The hash before its ASCII fast path: FNV-1a over the UTF-8 bytes, then murmur3's fmix32 (the reference). */
function reference(text: string): number {
  let h = 0x811c9dc5;
  for (const b of new TextEncoder().encode(text)) {
    h ^= b;
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

describe('stableHash32 (wave order, SPEC §7): the ASCII fast path gives the bytes\' hash', () => {
  it('equals the reference on ASCII, non-ASCII and mixed text (a rollout\'s order never changes)', () => {
    for (const s of ['', 'r1\u0000m0000042', 'th-0001', 'gerät-ü', '\u{1F600}x', 'a\u007f', 'a\u0080']) expect(stableHash32(s), s).toBe(reference(s));
    fc.assert(fc.property(fc.string({ unit: 'binary' }), (s) => stableHash32(s) === reference(s)), { numRuns: 5000 });
    fc.assert(fc.property(fc.string(), (s) => stableHash32(s) === reference(s)), { numRuns: 5000 });
  });
});
