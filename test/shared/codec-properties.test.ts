import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type CborValue, type HostPins, type PinSet, bytesEqual, checkReceipt, compareBytes, decodeCbor, encodeCanonical,
  encodePinSet, isCanonical, pinSetFromCbor, pinSetFromJson, pinSetToJson, signPinSet,
} from '../../shared/index';
import { keysetOf, samplePinSet, testSigner } from '../support/fixtures';

const utf8 = new TextEncoder();
const label = fc.stringMatching(/^[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?$/);
const hostName = fc.array(label, { minLength: 1, maxLength: 4 }).map((ls) => ls.join('.'));
const pin = fc.uint8Array({ minLength: 32, maxLength: 32 });
const uint32 = fc.integer({ min: 0, max: 0xffff_ffff });
const bigUint = fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER });

const host = (name: string): fc.Arbitrary<HostPins> =>
  fc.record({
    includeSubdomains: fc.boolean(),
    enforce: fc.boolean(),
    pins: fc.uniqueArray(pin, { minLength: 2, maxLength: 16, comparator: (a, b) => bytesEqual(a, b) }),
    port: fc.option(fc.integer({ min: 1, max: 65535 }), { nil: undefined }),
    single: fc.boolean(),
  }).map(({ includeSubdomains, enforce, pins, port, single }) => ({
    name,
    includeSubdomains,
    enforce,
    // The rule of two only binds enforced hosts: report-only hosts may carry one pin.
    pins: (single && !enforce ? pins.slice(0, 1) : pins).sort(compareBytes),
    ...(port !== undefined ? { port } : {}),
  }));

const pinSetArb: fc.Arbitrary<PinSet> = fc
  .record({
    seq: bigUint,
    issuedAt: uint32,
    span: fc.integer({ min: 1, max: 10 ** 9 }),
    fleet: fc.string({ minLength: 1, maxLength: 20 }),
    classes: fc.option(fc.uniqueArray(fc.string({ minLength: 1, maxLength: 8 }), { minLength: 1, maxLength: 4 }), { nil: undefined }),
    ids: fc.option(fc.uniqueArray(fc.string({ minLength: 1, maxLength: 8 }), { minLength: 1, maxLength: 4 }), { nil: undefined }),
    names: fc.uniqueArray(hostName, { minLength: 1, maxLength: 6 }),
    keysetVersion: uint32,
    failOpenAfter: fc.option(bigUint, { nil: undefined }),
  })
  .chain((r) =>
    fc.tuple(...r.names.map(host)).map((hosts) => ({
      format: 1 as const,
      seq: r.seq,
      issuedAt: r.issuedAt,
      notAfter: r.issuedAt + r.span,
      target: { fleet: r.fleet, ...(r.classes ? { deviceClasses: r.classes } : {}), ...(r.ids ? { deviceIds: r.ids } : {}) },
      hosts: [...hosts].sort((a, b) => compareBytes(utf8.encode(a.name), utf8.encode(b.name))),
      keysetVersion: r.keysetVersion,
      ...(r.failOpenAfter !== undefined ? { failOpenAfter: r.failOpenAfter } : {}),
    })),
  );

// The generic data model of deterministic CBOR (RFC 8949 §4.2.1): no floats, no tags.
const { value: cborArb } = fc.letrec<{ value: CborValue }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.integer({ min: Number.MIN_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER }),
    fc.string(),
    fc.boolean(),
    fc.constant(null),
    fc.uint8Array({ maxLength: 40 }),
    fc.array(tie('value'), { maxLength: 5 }),
    fc.array(fc.tuple(fc.oneof(fc.integer(), fc.string({ maxLength: 6 })), tie('value')), { maxLength: 5 }).map((es) => new Map<CborValue, CborValue>(es)),
  ),
}));

describe('codec properties (fast-check)', () => {
  it('model → deterministic CBOR → model is the identity, and the bytes are canonical', () => {
    fc.assert(
      fc.property(pinSetArb, (p) => {
        const bytes = encodePinSet(p);
        const d = decodeCbor(bytes);
        expect(d.ok).toBe(true);
        if (!d.ok) return;
        expect(isCanonical(bytes, d.value)).toBe(true);
        const back = pinSetFromCbor(d.value);
        expect(back).toEqual({ ok: true, value: p });
        // The JSON form people write round-trips to the same bytes.
        const viaJson = pinSetFromJson(JSON.parse(JSON.stringify(pinSetToJson(p))));
        expect(viaJson.ok && bytesEqual(encodePinSet(viaJson.value), bytes)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('any value of the data model encodes canonically: decode → re-encode gives the same bytes', () => {
    fc.assert(
      fc.property(cborArb, (v) => {
        const bytes = encodeCanonical(v);
        const d = decodeCbor(bytes);
        expect(d.ok).toBe(true);
        if (d.ok) expect(isCanonical(bytes, d.value)).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  const signer = testSigner('prop');
  const keyset = keysetOf(1, signer, testSigner('prop-backup'));
  const valid = signPinSet(samplePinSet(), signer);

  it('random byte mutations of a valid envelope never throw and never verify', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(valid.length - 1), fc.integer({ min: 1, max: 255 })), { minLength: 1, maxLength: 8 }),
        (flips) => {
          const m = Uint8Array.from(valid);
          for (const [i, x] of flips) m[i] = (m[i] as number) ^ x;
          if (bytesEqual(m, valid)) return;
          const r = checkReceipt(m, keyset);
          expect(r.ok).toBe(false);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('truncations and extensions never throw and never verify', () => {
    fc.assert(
      fc.property(fc.nat(valid.length - 1), fc.uint8Array({ maxLength: 8 }), (cut, tail) => {
        const m = Uint8Array.from([...valid.subarray(0, cut), ...tail]);
        if (bytesEqual(m, valid)) return;
        expect(checkReceipt(m, keyset).ok).toBe(false);
      }),
      { numRuns: 1000 },
    );
  });

  it('arbitrary bytes never throw out of the decoder', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (b) => {
        expect(checkReceipt(b, keyset).ok).toBe(false);
      }),
      { numRuns: 2000 },
    );
  });
});
