import { createPublicKey, verify as nodeVerify } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  checkReceipt, decodeCbor, encodeCanonical, encodePinSet, fromHex, pinSetFromJson, pinSetToJson, toHex,
} from '../../shared/index';
import { envelopeParts } from '../support/fixtures';
import { vectorDevice, vectorKeyset, vectors } from '../support/vectors';

// Conformance vectors handed to us with SPEC.md (../shared/vectors/pinset-v1.json), read from that file.
const keyset = vectorKeyset();

describe('valid vector (SPEC §2, §3)', () => {
  it('encodes the JSON pin set to exactly the vector payload (RFC 8949 §4.2.1 deterministic CBOR)', () => {
    const p = pinSetFromJson(vectors.valid.pinset);
    expect(p.ok).toBe(true);
    if (!p.ok) return;
    expect(toHex(encodePinSet(p.value))).toBe(vectors.valid.payload);
    expect(pinSetToJson(p.value)).toEqual(vectors.valid.pinset);
  });

  it('passes every context-free check and hashes to the vector sha256', () => {
    const r = checkReceipt(fromHex(vectors.valid.cose), keyset);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(toHex(r.sha256)).toBe(vectors.valid.sha256);
    expect(pinSetToJson(r.pinset)).toEqual(vectors.valid.pinset);
  });

  it('signature also verifies with node:crypto (OpenSSL) as an independent verifier (RFC 9052 §4.4)', () => {
    const [prot, , payload, sig] = envelopeParts(fromHex(vectors.valid.cose));
    const toBeSigned = encodeCanonical(['Signature1', prot, new Uint8Array(0), payload]);
    const header = decodeCbor(prot);
    const kid = header.ok && header.value instanceof Map ? toHex(header.value.get(4) as Uint8Array) : '';
    const raw = vectors.keyset.keys.find((k) => k.kid === kid)?.publicKey;
    expect(raw).toBeDefined();
    // RFC 8410 SPKI prefix for an Ed25519 public key.
    const spki = Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), Buffer.from(raw as string, 'hex')]);
    const key = createPublicKey({ key: spki, format: 'der', type: 'spki' });
    expect(nodeVerify(null, toBeSigned, key, sig)).toBe(true);
    const tampered = Uint8Array.from(toBeSigned);
    tampered[tampered.length - 1] = (tampered[tampered.length - 1] as number) ^ 1;
    expect(nodeVerify(null, tampered, key, sig)).toBe(false);
  });
});

describe('invalid vectors: each refused with its SPEC §4 code', () => {
  for (const v of vectors.invalid) {
    it(`${v.name} → ${v.error}`, () => {
      const r = checkReceipt(fromHex(v.cose), keyset);
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.code).toBe(v.error);
    });
  }
});

describe('contextual vectors: the device state decides (SPEC §4)', () => {
  for (const v of vectors.contextual) {
    it(`${v.name} → ${v.error ?? 'accepted'}`, () => {
      const { device, now } = vectorDevice(v.device);
      const r = checkReceipt(fromHex(vectors.valid.cose), keyset, device, now);
      if (v.error === null) {
        expect(r).toMatchObject({ ok: true });
        if (r.ok) expect(r.idempotent).toBe(v.device.installedSeq === r.pinset.seq);
      } else {
        expect(r).toMatchObject({ ok: false, code: v.error });
      }
    });
  }
});
