import { signSign1 } from '../cose/sign1';
import type { SignerKey } from '../cose/signer-key';
import { encodePinSet } from './cbor-map';
import { PINSET_CONTENT_TYPE, type PinSet } from './model';

/** SPEC §3: a pin set as a COSE_Sign1 envelope. Throws on an invalid set (it must never be signed). */
export function signPinSet(p: PinSet, key: SignerKey): Uint8Array {
  return signSign1(encodePinSet(p), PINSET_CONTENT_TYPE, key);
}
