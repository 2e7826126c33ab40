import {
  checkReceipt, decodeCbor, encodeCanonical, generateSignerKey, PINSET_CONTENT_TYPE, signSign1,
  type CborValue, type DeviceState, type ReceiptCode, type TrustedKeyset,
} from '../shared/index';
import { DEVICE_RECEIPT_OPTIONS } from './receipt-options';

/**
 * The hostile envelopes of the rogue mode (SPEC §3/§4), built from what an attacker can actually get: a
 * captured genuine envelope, older genuine envelopes, and keys of its own — never the signer's private key.
 */
export interface RogueEnvelope {
  readonly name: string;
  readonly bytes: Uint8Array;
  /** The SPEC §4 code a correct device must answer. */
  readonly expected: ReceiptCode;
}

export interface CapturedEnvelopes {
  /** A genuine envelope the victim may hold already (e.g. captured on the rogue's own update topic). */
  readonly current: Uint8Array;
  /** A genuine envelope with a lower seq than the victim's installed one (replay). */
  readonly older?: Uint8Array;
  /** A genuine envelope whose notAfter has passed. */
  readonly expired?: Uint8Array;
}

function sign1Parts(envelope: Uint8Array): { prot: Uint8Array; payload: Uint8Array } | undefined {
  const d = decodeCbor(envelope);
  if (!d.ok || typeof d.value !== 'object' || d.value === null || !('tag' in d.value) || !Array.isArray(d.value.value)) return undefined;
  const [prot, , payload] = d.value.value as CborValue[];
  return prot instanceof Uint8Array && payload instanceof Uint8Array ? { prot, payload } : undefined;
}

export function rogueEnvelopes(c: CapturedEnvelopes): RogueEnvelope[] {
  const out: RogueEnvelope[] = [];
  // Tampered: one payload byte changed after signing (e.g. a pin swapped for the attacker's).
  const tampered = new Uint8Array(c.current);
  const i = tampered.length - 80;
  tampered[i] = (tampered[i] ?? 0) ^ 0x01;
  out.push({ name: 'tampered payload (genuine signature)', bytes: tampered, expected: 'E_SIG' });
  if (c.older !== undefined) out.push({ name: 'replayed older genuine set (lower seq)', bytes: c.older, expected: 'E_ROLLBACK' });
  if (c.expired !== undefined) out.push({ name: 'replayed expired genuine set', bytes: c.expired, expected: 'E_EXPIRED' });
  const parts = sign1Parts(c.current);
  const rogue = generateSignerKey();
  if (parts !== undefined) {
    // Wrongly signed: the genuine payload re-signed with the attacker's own key (unknown kid)...
    out.push({ name: 'signed with an unknown key', bytes: signSign1(parts.payload, PINSET_CONTENT_TYPE, rogue), expected: 'E_KID' });
    // ...or claiming the genuine signer's kid while signing with its own key.
    const realKid = decodeCbor(parts.prot);
    const kid = realKid.ok && realKid.value instanceof Map ? realKid.value.get(4) : undefined;
    if (kid instanceof Uint8Array) {
      out.push({
        name: 'genuine kid, attacker signature', bytes: signSign1(parts.payload, PINSET_CONTENT_TYPE, { ...rogue, kid }), expected: 'E_SIG',
      });
    }
  }
  out.push({ name: 'not an envelope at all', bytes: encodeCanonical(['pins', 1]), expected: 'E_NOT_COSE' });
  return out;
}

/** What a device holding `keyset` and `device` answers (the device's own SPEC §4 check, as simulated-device runs it). */
export function deviceVerdict(e: RogueEnvelope, keyset: TrustedKeyset, device: DeviceState, nowSec: number): string {
  const r = checkReceipt(e.bytes, keyset, device, nowSec, DEVICE_RECEIPT_OPTIONS);
  return r.ok ? (r.idempotent ? 'accepted (idempotent)' : 'ACCEPTED') : `rejected ${r.code}`;
}
