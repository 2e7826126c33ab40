import { generateSignerKey, signPinSet, type PinSet, type SignerKey, type TrustedKeyset } from '../../../shared/index';

export const BROKER_HOST = 'mqtt.example.com';
export const FLEET = 'fleet-a';
export const DEVICE_CLASS = 'sensor-v2';

export interface Signers {
  readonly live: SignerKey;
  readonly backup: SignerKey;
  readonly keyset: TrustedKeyset;
}

export function makeSigners(): Signers {
  const live = generateSignerKey();
  const backup = generateSignerKey();
  return { live, backup, keyset: { version: 1, publicKeys: [live.publicKey, backup.publicKey] } };
}

/** A random 32-byte pin standing for an offline backup key (SPEC §2 rule of two). */
export function backupPin(fill: number): Uint8Array {
  return new Uint8Array(32).fill(fill);
}

export function makePinSet(seq: number, brokerPins: readonly Uint8Array[], over: Partial<PinSet> = {}): PinSet {
  const now = Math.floor(Date.now() / 1000);
  const pins = [...brokerPins].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  return {
    format: 1,
    seq,
    issuedAt: now - 60,
    notAfter: now + 30 * 86_400,
    target: { fleet: FLEET },
    hosts: [{ name: BROKER_HOST, includeSubdomains: false, pins, enforce: true }],
    keysetVersion: 1,
    ...over,
  };
}

export function sign(p: PinSet, key: SignerKey): Uint8Array {
  return signPinSet(p, key);
}
