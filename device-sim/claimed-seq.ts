import { decodeCbor, type CborValue } from '../shared/index';

/**
 * The seq an envelope claims, read without trusting it, to label a "rejected" ack (SPEC §6 ack key 1 is
 * required). When the check failed before the payload could be trusted, or the bytes are not a pin set at
 * all, the label is 0; the gateway matches acks by the envelope SHA-256 (key 2), which is always exact.
 */
export function claimedSeq(envelope: Uint8Array): number {
  const outer = decodeCbor(envelope);
  if (!outer.ok) return 0;
  const top = outer.value as CborValue;
  if (typeof top !== 'object' || top === null || !('tag' in top) || !Array.isArray(top.value)) return 0;
  const payload = top.value[2];
  if (!(payload instanceof Uint8Array)) return 0;
  const doc = decodeCbor(payload);
  if (!doc.ok || !(doc.value instanceof Map)) return 0;
  const seq = doc.value.get(2);
  return typeof seq === 'number' && Number.isSafeInteger(seq) && seq >= 0 ? seq : 0;
}
