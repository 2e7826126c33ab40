import * as ed from '@noble/ed25519';
import { describe, expect, it } from 'vitest';
import {
  type CborValue, type DeviceState, checkReceipt, encodeCanonical, encodePinSet, pinSetToCbor, signKeyset, signPinSet,
  PINSET_CONTENT_TYPE, KEYSET_CONTENT_TYPE, MAX_ENVELOPE_BYTES,
} from '../../shared/index';
import { envelopeParts, keysetOf, samplePinSet, T0, testPin, testSigner } from '../support/fixtures';

const signer = testSigner('live');
const backup = testSigner('backup');
const keyset = keysetOf(1, signer, backup);
const device: DeviceState = { deviceId: 'dev-1', fleet: 'fleet-a', deviceClass: 'cls', installedSeq: 3, keysetVersion: 1 };

/** A COSE_Sign1 built by hand, so that each field can be broken on purpose (RFC 9052 §4.2). */
function envelope(parts: { prot?: CborValue; unprot?: CborValue; payload?: CborValue; sig?: CborValue; tag?: number }): Uint8Array {
  const [prot, unprot, payload, sig] = envelopeParts(signPinSet(samplePinSet(), signer));
  return encodeCanonical({
    tag: parts.tag ?? 18,
    value: [parts.prot ?? prot, parts.unprot ?? unprot, 'payload' in parts ? (parts.payload as CborValue) : payload, parts.sig ?? sig],
  });
}

/** Signs an arbitrary payload under an arbitrary protected header (RFC 9052 §4.4 Sig_structure). */
function signedWith(header: Map<CborValue, CborValue>, payload: Uint8Array): Uint8Array {
  return resign(encodeCanonical(header), payload);
}

function resign(prot: Uint8Array, payload: Uint8Array): Uint8Array {
  const tbs = encodeCanonical(['Signature1', prot, new Uint8Array(0), payload]);
  const sig = signRaw(tbs);
  return encodeCanonical({ tag: 18, value: [prot, new Map(), payload, sig] });
}

const signRaw = (m: Uint8Array): Uint8Array => ed.sign(m, signer.secretKey);

const stdHeader = (): Map<CborValue, CborValue> => new Map<CborValue, CborValue>([[1, -8], [4, signer.kid], [16, PINSET_CONTENT_TYPE]]);
const payload = encodePinSet(samplePinSet());

// Context-free shape and crypto checks (SPEC §3, §4): one row per way to break an envelope.
const shapeCases: Array<[string, () => Uint8Array, string]> = [
  ['empty input', () => new Uint8Array(0), 'E_CBOR'],
  ['16,385 bytes', () => new Uint8Array(MAX_ENVELOPE_BYTES + 1), 'E_SIZE'],
  ['16,000 nested arrays', () => Uint8Array.from([...new Uint8Array(16_000).fill(0x81), 0x00]), 'E_CBOR'],
  ['indefinite garbage', () => Uint8Array.from([0x9f, 0x01]), 'E_CBOR'],
  ['tag 98 (COSE_Sign) instead of 18', () => envelope({ tag: 98 }), 'E_NOT_COSE'],
  ['array of 3', () => encodeCanonical({ tag: 18, value: [new Uint8Array(0), new Map(), new Uint8Array(0)] }), 'E_NOT_COSE'],
  ['protected is a map, not a bstr', () => envelope({ prot: new Map() }), 'E_NOT_COSE'],
  ['unprotected not empty', () => envelope({ unprot: new Map([[4, new Uint8Array(8)]]) }), 'E_NOT_COSE'],
  ['detached payload (nil)', () => envelope({ payload: null }), 'E_NOT_COSE'],
  ['signature of 63 bytes', () => envelope({ sig: new Uint8Array(63) }), 'E_NOT_COSE'],
  ['protected bstr not well-formed', () => envelope({ prot: Uint8Array.from([0xa1, 0x01]) }), 'E_CBOR'],
  ['no alg', () => envelope({ prot: encodeCanonical(new Map<CborValue, CborValue>([[4, signer.kid]])) }), 'E_ALG'],
  ['kid of 7 bytes', () => envelope({ prot: encodeCanonical(new Map<CborValue, CborValue>([[1, -8], [4, signer.kid.subarray(0, 7)]])) }), 'E_KID'],
  ['all-zero signature', () => envelope({ sig: new Uint8Array(64) }), 'E_SIG'],
  ['extra protected label, signed', () => signedWith(new Map<CborValue, CborValue>([...stdHeader(), [3, 'x']]), payload), 'E_SCHEMA'],
  ['keyset content type on the update topic', () => signedWith(new Map<CborValue, CborValue>([[1, -8], [4, signer.kid], [16, KEYSET_CONTENT_TYPE]]), payload), 'E_SCHEMA'],
  ['payload not well-formed, signed', () => resign(encodeCanonical(stdHeader()), Uint8Array.from([0xa1])), 'E_CBOR'],
  ['payload with unsorted keys, signed', () => resign(encodeCanonical(stdHeader()), unsorted()), 'E_NONCANONICAL'],
  ['payload with a tag, signed', () => resign(encodeCanonical(stdHeader()), encodeCanonical({ tag: 1, value: 5 })), 'E_NONCANONICAL'],
  ['payload with an unknown key 9, signed', () => resign(encodeCanonical(stdHeader()), withKey(9, 1)), 'E_SCHEMA'],
  ['keyset envelope as a pin set', () => signKeyset({ format: 1, version: 2, publicKeys: [signer.publicKey, backup.publicKey], issuedAt: T0 }, signer), 'E_SCHEMA'],
];

function unsorted(): Uint8Array {
  // Hand-write a map whose keys are 2,1: well-formed but not sorted (RFC 8949 §4.2.1).
  return Uint8Array.from([0xa2, 0x02, 0x07, 0x01, 0x01]);
}

function withKey(k: number, v: CborValue): Uint8Array {
  const m = pinSetToCbor(samplePinSet());
  m.set(k, v);
  return encodeCanonical(m);
}

describe('SPEC §4 context-free checks: a table of broken envelopes', () => {
  for (const [name, make, code] of shapeCases) {
    it(`${name} → ${code}`, () => {
      const r = checkReceipt(make(), keyset);
      expect(r).toMatchObject({ ok: false, code });
    });
  }
});

describe('SPEC §4 device checks at their exact boundaries', () => {
  const env = (over: Parameters<typeof samplePinSet>[0] = {}) => signPinSet(samplePinSet(over), signer);
  const cases: Array<[string, Uint8Array, Partial<DeviceState>, number, string | null]> = [
    ['issuedAt exactly 300 s ahead is accepted', env(), {}, T0 - 300, null],
    ['issuedAt 301 s ahead', env(), {}, T0 - 301, 'E_NOT_YET'],
    ['now equal to notAfter is accepted', env(), {}, T0 + 30 * 86_400, null],
    ['one second after notAfter', env(), {}, T0 + 30 * 86_400 + 1, 'E_EXPIRED'],
    ['device id not in target list', env({ target: { fleet: 'fleet-a', deviceIds: ['dev-2'] } }), {}, T0, 'E_TARGET'],
    ['device id in target list', env({ target: { fleet: 'fleet-a', deviceIds: ['dev-1', 'dev-2'] } }), {}, T0, null],
    ['keyset version higher than the set (device keyset newer)', env(), { keysetVersion: 2 }, T0, 'E_KEYSET'],
    ['seq below installed', env({ seq: 2 }), {}, T0, 'E_ROLLBACK'],
    ['seq equal, other bytes', env({ seq: 3 }), {}, T0, 'E_ROLLBACK'],
    ['live key not pinned by an enforced host', env(), { servedPins: new Map([['api.example.com', [testPin('k2')]]]) }, T0, 'E_WOULD_BRICK'],
    ['live key pinned', env(), { servedPins: new Map([['api.example.com', [testPin('backup')]]]) }, T0, null],
    ['live key of an unlisted host does not matter', env(), { servedPins: new Map([['other.example.com', [testPin('x')]]]) }, T0, null],
  ];
  for (const [name, e, over, now, code] of cases) {
    it(`${name} → ${code ?? 'accepted'}`, () => {
      const r = checkReceipt(e, keyset, { ...device, ...over }, now);
      if (code === null) expect(r).toMatchObject({ ok: true, idempotent: false });
      else expect(r).toMatchObject({ ok: false, code });
    });
  }

  it('same seq and same bytes is an idempotent accept', () => {
    const e = signPinSet(samplePinSet({ seq: 3 }), signer);
    const first = checkReceipt(e, keyset, { ...device, installedSeq: 2 }, T0);
    expect(first.ok).toBe(true);
    if (!first.ok) return;
    expect(checkReceipt(e, keyset, { ...device, installedSha256: first.sha256 }, T0)).toMatchObject({ ok: true, idempotent: true });
  });

  it('runs the checks in the SPEC order: the first failing check names the code', () => {
    // Other fleet AND expired AND rollback: E_TARGET comes first.
    const e = signPinSet(samplePinSet({ seq: 1, target: { fleet: 'other' } }), signer);
    expect(checkReceipt(e, keyset, device, T0 + 365 * 86_400)).toMatchObject({ code: 'E_TARGET' });
  });

  it('misuse throws naming the argument: device without now', () => {
    expect(() => checkReceipt(signPinSet(samplePinSet(), signer), keyset, device)).toThrow(/"now"/);
  });
});
