import { type CborValue, encodeCanonical, isMap } from '../cbor/canonical';
import { bytesEqual } from '../bytes';
import { openSign1, signSign1 } from '../cose/sign1';
import type { SignerKey } from '../cose/signer-key';
import { MAX_CLOCK_SKEW_SECONDS, type Rejection } from '../errors';
import type { ReceiptOptions } from '../receipt/check-receipt';
import type { TrustedKeyset } from '../cose/trusted-keyset';

export const KEYSET_CONTENT_TYPE = 'application/pinkeyset+cbor';
export const MIN_KEYSET_KEYS = 2;

/** SPEC §5: {1: format 1, 2: version, 3: [Ed25519 public key bstr(32)…] (at least 2), 4: issuedAt}. */
export interface KeysetDoc {
  readonly format: 1;
  readonly version: number;
  readonly publicKeys: readonly Uint8Array[];
  readonly issuedAt: number;
}

export function validateKeysetDoc(d: KeysetDoc): string[] {
  const problems: string[] = [];
  const uint = (v: unknown) => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
  if (d.format !== 1) problems.push('format must be 1');
  if (!uint(d.version)) problems.push('version must be an unsigned integer');
  if (!uint(d.issuedAt)) problems.push('issuedAt must be unix seconds');
  if (!Array.isArray(d.publicKeys) || d.publicKeys.length < MIN_KEYSET_KEYS) {
    problems.push(`a keyset holds at least ${MIN_KEYSET_KEYS} public keys (live signer and offline backup)`);
  } else {
    if (!d.publicKeys.every((k) => k instanceof Uint8Array && k.length === 32)) problems.push('every public key must be 32 bytes');
    else if (d.publicKeys.some((k, i) => d.publicKeys.findIndex((o) => bytesEqual(o, k)) !== i)) problems.push('public keys must be unique');
  }
  return problems;
}

/** Signs a keyset document with a key of the keyset the devices hold now (SPEC §5). */
export function signKeyset(doc: KeysetDoc, key: SignerKey): Uint8Array {
  const problems = validateKeysetDoc(doc);
  if (problems.length > 0) throw new TypeError(`signKeyset: "doc" breaks SPEC §5: ${problems.join('; ')}`);
  const m = new Map<CborValue, CborValue>([[1, 1], [2, doc.version], [3, [...doc.publicKeys]], [4, doc.issuedAt]]);
  return signSign1(encodeCanonical(m), KEYSET_CONTENT_TYPE, key);
}

export type KeysetUpdateResult =
  | { readonly ok: true; readonly keyset: TrustedKeyset; readonly doc: KeysetDoc }
  | ({ readonly ok: false } & Rejection);

/**
 * SPEC §5 on receipt: signed by a key of the current keyset, version = current + 1 only (else E_KEYSET).
 * Untrusted bytes never throw.
 */
export function checkKeysetUpdate(
  envelope: Uint8Array,
  current: TrustedKeyset,
  now: number,
  options: ReceiptOptions = {},
): KeysetUpdateResult {
  const opened = openSign1(envelope, current, KEYSET_CONTENT_TYPE, options.verify);
  if (!opened.ok) return { ok: false, ...opened.error };
  const m = opened.value.document;
  const schema = (detail: string): KeysetUpdateResult => ({ ok: false, code: 'E_SCHEMA', detail });
  if (!isMap(m)) return schema('keyset document must be a map');
  for (const k of m.keys()) if (k !== 1 && k !== 2 && k !== 3 && k !== 4) return schema(`unknown key ${String(k)}`);
  const keys = m.get(3);
  const doc = {
    format: m.get(1),
    version: m.get(2),
    publicKeys: Array.isArray(keys) ? keys : [],
    issuedAt: m.get(4),
  } as KeysetDoc;
  if (!Array.isArray(keys)) return schema('key 3 must be an array of public keys');
  const problems = validateKeysetDoc(doc);
  if (problems.length > 0) return schema(problems.join('; '));
  if (doc.version !== current.version + 1) {
    return { ok: false, code: 'E_KEYSET', detail: `keyset v${doc.version} is not the successor of v${current.version}` };
  }
  if (doc.issuedAt > now + MAX_CLOCK_SKEW_SECONDS) {
    return { ok: false, code: 'E_NOT_YET', detail: `keyset issuedAt ${doc.issuedAt} is ahead of the device clock` };
  }
  return { ok: true, keyset: { version: doc.version, publicKeys: doc.publicKeys }, doc };
}
