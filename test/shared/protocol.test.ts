import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type Ack, type Hello, type Report, decodeAck, decodeHello, decodeReport, encodeAck, encodeCanonical, encodeHello,
  encodeReport, isValidDeviceId, parseTopic, topicFor, MAX_MESSAGE_BYTES, type CborValue,
} from '../../shared/index';
import { testPin } from '../support/fixtures';

const hello: Hello = { firmware: '1.2.3', deviceClass: 'cls', fleet: 'fleet-a', installedSeq: 4, keysetVersion: 1, installedSha256: new Uint8Array(32).fill(7) };
const ack: Ack = { seq: 4, sha256: new Uint8Array(32).fill(1), status: 'rejected', code: 'E_SIG' };
const report: Report = { host: 'api.example.com', port: 443, result: 'mismatch', servedPins: [testPin('x')], installedSeq: 4, time: 1_767_225_600 };

const m = (...e: Array<[number, CborValue]>): Uint8Array => encodeCanonical(new Map<CborValue, CborValue>(e));

describe('SPEC §6 messages', () => {
  it('round-trip hello, ack and report', () => {
    expect(decodeHello(encodeHello(hello))).toEqual({ ok: true, value: hello });
    expect(decodeAck(encodeAck(ack))).toEqual({ ok: true, value: ack });
    expect(decodeAck(encodeAck({ ...ack, status: 'verified', code: undefined as never }))).toMatchObject({ ok: true });
    expect(decodeReport(encodeReport(report))).toEqual({ ok: true, value: report });
  });

  const sha = new Uint8Array(32);
  const bad: Array<[string, (b: Uint8Array) => unknown, Uint8Array, string]> = [
    ['hello over 4096 bytes', decodeHello, new Uint8Array(MAX_MESSAGE_BYTES + 1), 'E_SIZE'],
    ['hello not CBOR', decodeHello, Uint8Array.from([0xa6, 0x01]), 'E_CBOR'],
    ['hello is an array', decodeHello, encodeCanonical([1, 2]), 'E_SCHEMA'],
    ['hello missing key 6', decodeHello, m([1, 'f'], [2, 'c'], [3, 'x'], [4, 1], [5, 1]), 'E_SCHEMA'],
    ['hello with unknown key 7', decodeHello, m([1, 'f'], [2, 'c'], [3, 'x'], [4, 1], [5, 1], [6, sha], [7, 0]), 'E_SCHEMA'],
    ['hello seq negative', decodeHello, m([1, 'f'], [2, 'c'], [3, 'x'], [4, -1], [5, 1], [6, sha]), 'E_SCHEMA'],
    ['hello keys unsorted', decodeHello, Uint8Array.from([0xa2, 0x02, 0x61, 0x63, 0x01, 0x61, 0x66]), 'E_NONCANONICAL'],
    ['ack status unknown', decodeAck, m([1, 1], [2, sha], [3, 'done']), 'E_SCHEMA'],
    ['ack rejected without code', decodeAck, m([1, 1], [2, sha], [3, 'rejected']), 'E_SCHEMA'],
    ['ack rejected with a code outside SPEC §4', decodeAck, m([1, 1], [2, sha], [3, 'rejected'], [4, 'E_NOPE']), 'E_SCHEMA'],
    ['ack applied with a code', decodeAck, m([1, 1], [2, sha], [3, 'applied'], [4, 'E_SIG']), 'E_SCHEMA'],
    ['ack sha of 31 bytes', decodeAck, m([1, 1], [2, new Uint8Array(31)], [3, 'applied']), 'E_SCHEMA'],
    ['report port 0', decodeReport, m([1, 'h'], [2, 0], [3, 'ok'], [4, []], [5, 1], [6, 1]), 'E_SCHEMA'],
    ['report result unknown', decodeReport, m([1, 'h'], [2, 443], [3, 'meh'], [4, []], [5, 1], [6, 1]), 'E_SCHEMA'],
    ['report pin of 20 bytes', decodeReport, m([1, 'h'], [2, 443], [3, 'ok'], [4, [new Uint8Array(20)]], [5, 1], [6, 1]), 'E_SCHEMA'],
  ];
  for (const [name, decode, bytes, code] of bad) {
    it(`${name} → ${code}`, () => {
      expect(decode(bytes)).toMatchObject({ ok: false, error: { code } });
    });
  }

  it('arbitrary bytes never throw out of the message decoders', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (b) => {
        for (const d of [decodeHello, decodeAck, decodeReport]) expect(d(b).ok).toBe(false);
      }),
      { numRuns: 1000 },
    );
  });
});

describe('SPEC §6 topics', () => {
  it('builds and parses each kind', () => {
    for (const kind of ['hello', 'update', 'keyset', 'ack', 'report'] as const) {
      expect(parseTopic(topicFor('dev-1', kind))).toEqual({ deviceId: 'dev-1', kind });
    }
  });
  const refused = ['pins/v1/+/hello', 'pins/v1/#', 'pins/v1/dev-1/hello/x', 'pins/v2/dev-1/hello', 'pins/v1/dev-1/other', 'pins/v1//hello', ''];
  for (const t of refused) it(`does not parse ${JSON.stringify(t)}`, () => expect(parseTopic(t)).toBeNull());
  it('device ids cannot carry wildcards or levels ([MQTT-4.7.1-1])', () => {
    for (const id of ['a+b', 'a#', 'a/b', '', 'x'.repeat(129), 'a\u0000']) expect(isValidDeviceId(id)).toBe(false);
    expect(() => topicFor('a/b', 'hello')).toThrow(/"deviceId"/);
  });
});
