import { createHash } from 'node:crypto';
import {
  type CborValue, type PinSet, type SignerKey, type TrustedKeyset, compareBytes, decodeCbor, signerKeyFromSecret,
} from '../../shared/index';

/** Deterministic test signers: seeds derived from a label, so failures reproduce. */
export function testSigner(label: string): SignerKey {
  return signerKeyFromSecret(new Uint8Array(createHash('sha256').update(`signer:${label}`).digest()));
}

export function testPin(label: string): Uint8Array {
  return new Uint8Array(createHash('sha256').update(`spki:${label}`).digest());
}

export function keysetOf(version: number, ...keys: SignerKey[]): TrustedKeyset {
  return { version, publicKeys: keys.map((k) => k.publicKey) };
}

export const T0 = 1_767_225_600; // 2026-01-01T00:00:00Z

/** A valid pin set; override any field. */
export function samplePinSet(over: Partial<PinSet> = {}): PinSet {
  return {
    format: 1,
    seq: 7,
    issuedAt: T0,
    notAfter: T0 + 30 * 86_400,
    target: { fleet: 'fleet-a' },
    hosts: [
      { name: 'api.example.com', includeSubdomains: false, pins: [testPin('k1'), testPin('backup')].sort(compareBytes), enforce: true },
    ],
    keysetVersion: 1,
    ...over,
  };
}

/** The four COSE_Sign1 items of a well-formed envelope (RFC 9052 §4.2), for tests that take one apart. */
export function envelopeParts(envelope: Uint8Array): [Uint8Array, CborValue, Uint8Array, Uint8Array] {
  const d = decodeCbor(envelope);
  if (!d.ok || typeof d.value !== 'object' || d.value === null || !('tag' in d.value)) throw new Error('not an envelope');
  return d.value.value as unknown as [Uint8Array, CborValue, Uint8Array, Uint8Array];
}
