import { bytesEqual, fromHex, toHex } from '../bytes';
import { kidOf } from './signer-key';
import { err, ok, type Result } from '../result';

/** The signer keys a device (or the gateway) trusts now, and the keyset version they belong to (SPEC §5). */
export interface TrustedKeyset {
  readonly version: number;
  readonly publicKeys: readonly Uint8Array[];
}

/** The public key whose kid matches, if any. */
export function findKeyByKid(keyset: TrustedKeyset, kid: Uint8Array): Uint8Array | undefined {
  return keyset.publicKeys.find((pk) => bytesEqual(kidOf(pk), kid));
}

export interface KeysetJson {
  version: number;
  keys: Array<{ kid?: string; publicKey: string }>;
}

/** The vectors' `keyset` shape: {version, keys: [{kid, publicKey}]} in hex; a given kid must match its key. */
export function keysetFromJson(json: unknown): Result<TrustedKeyset, string> {
  if (typeof json !== 'object' || json === null) return err('keyset must be a JSON object');
  const { version, keys } = json as Partial<KeysetJson>;
  if (typeof version !== 'number' || !Number.isSafeInteger(version) || version < 0) return err('keyset.version must be an unsigned integer');
  if (!Array.isArray(keys) || keys.length === 0) return err('keyset.keys must be a non-empty array');
  const publicKeys: Uint8Array[] = [];
  for (const [i, k] of keys.entries()) {
    if (typeof k?.publicKey !== 'string' || !/^[0-9a-fA-F]{64}$/.test(k.publicKey)) {
      return err(`keyset.keys[${i}].publicKey must be 64 hex characters (a raw Ed25519 public key)`);
    }
    const pk = fromHex(k.publicKey);
    if (k.kid !== undefined && k.kid.toLowerCase() !== toHex(kidOf(pk))) {
      return err(`keyset.keys[${i}].kid ${k.kid} does not match its public key (expected ${toHex(kidOf(pk))})`);
    }
    publicKeys.push(pk);
  }
  return ok({ version, publicKeys });
}

export function keysetToJson(k: TrustedKeyset): KeysetJson {
  return { version: k.version, keys: k.publicKeys.map((pk) => ({ kid: toHex(kidOf(pk)), publicKey: toHex(pk) })) };
}
