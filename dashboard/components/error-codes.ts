/** SPEC §4 receipt codes (and the gateway's own delivery codes) in words an operator can act on (issue 15). */
const WORDS: Record<string, string> = {
  E_SIZE: 'the envelope is larger than 16,384 bytes',
  E_CBOR: 'the envelope is not well-formed CBOR',
  E_NOT_COSE: 'the envelope is not a COSE_Sign1 message',
  E_ALG: 'the signature algorithm is not Ed25519',
  E_KID: "the signing key is not in the device's trusted keyset (push the keyset first)",
  E_SIG: 'the signature does not verify',
  E_NONCANONICAL: 'the envelope is not in deterministic CBOR',
  E_SCHEMA: 'the pin set breaks a rule of the pin-set format',
  E_TARGET: 'the pin set is not for this device (fleet, class or label)',
  E_KEYSET: "the pin set's keyset version is older than the device's",
  E_ROLLBACK: 'the device already holds a newer set (or the same seq with other bytes)',
  E_NOT_YET: "the pin set's issue time is ahead of the device clock (check the device's clock)",
  E_EXPIRED: 'the pin set has expired (its notAfter date passed)',
  E_WOULD_BRICK: "the device's live check found a server key that is not in the new set: installing it would cut the device off",
  E_STORAGE: 'the device could not store the set (flash full or failing)',
};

export function describeCode(code: string): string {
  return WORDS[code] ?? 'an error code this dashboard does not know';
}
