import { createHash } from 'node:crypto';
import { bytesEqual, toHex } from '../bytes';
import type { Ed25519Verifier } from '../cose/ed25519-verify';
import { openSign1 } from '../cose/sign1';
import { MAX_CLOCK_SKEW_SECONDS, type Rejection } from '../errors';
import type { TrustedKeyset } from '../cose/trusted-keyset';
import { pinSetFromCbor } from '../pinset/cbor-map';
import { PINSET_CONTENT_TYPE, type PinSet } from '../pinset/model';


/** What the receiving device holds now: the context of the checks after E_SCHEMA. */
export interface DeviceState {
  readonly deviceId?: string;
  readonly fleet: string;
  readonly deviceClass: string;
  readonly installedSeq: number;
  /** SHA-256 of the installed envelope, for the idempotent re-accept (SPEC §4 E_ROLLBACK). */
  readonly installedSha256?: Uint8Array;
  readonly keysetVersion: number;
  /** Host name → pins of the keys it serves now, where the device could reach it (E_WOULD_BRICK). */
  readonly servedPins?: ReadonlyMap<string, readonly Uint8Array[]>;
}

export type ReceiptResult =
  | { readonly ok: true; readonly pinset: PinSet; readonly sha256: Uint8Array; readonly idempotent: boolean }
  | ({ readonly ok: false } & Rejection);

export function envelopeSha256(envelope: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(envelope).digest());
}

/** How the checks run; every choice gives the same answers. */
export interface ReceiptOptions {
  /** The E_SIG check: default the noble reference; devices pass `ed25519VerifyFast` (see openSign1). */
  readonly verify?: Ed25519Verifier;
}

const fail = (code: Rejection['code'], detail: string): ReceiptResult => ({ ok: false, code, detail });

/**
 * The full receipt check of SPEC §4 as one pure function, each check in the spec's order with its code.
 * Without `device`, only the context-free checks run (E_SIZE … E_SCHEMA). `now` is unix seconds.
 * Untrusted bytes never throw.
 */
export function checkReceipt(
  envelope: Uint8Array,
  keyset: TrustedKeyset,
  device?: DeviceState,
  now?: number,
  options: ReceiptOptions = {},
): ReceiptResult {
  const opened = openSign1(envelope, keyset, PINSET_CONTENT_TYPE, options.verify);
  if (!opened.ok) return { ok: false, ...opened.error };
  const parsed = pinSetFromCbor(opened.value.document);
  if (!parsed.ok) return fail('E_SCHEMA', parsed.error);
  const pinset = parsed.value;
  const sha256 = envelopeSha256(envelope);
  if (device === undefined) return { ok: true, pinset, sha256, idempotent: false };
  if (now === undefined || !Number.isFinite(now)) throw new TypeError('checkReceipt: "now" (unix seconds) is required with "device"');

  const t = pinset.target;
  if (t.fleet !== device.fleet) return fail('E_TARGET', `pin set is for fleet "${t.fleet}", device is in "${device.fleet}"`);
  if (t.deviceClasses !== undefined && !t.deviceClasses.includes(device.deviceClass)) {
    return fail('E_TARGET', `device class "${device.deviceClass}" is not among the targeted classes`);
  }
  if (t.deviceIds !== undefined && (device.deviceId === undefined || !t.deviceIds.includes(device.deviceId))) {
    return fail('E_TARGET', `device "${device.deviceId ?? '?'}" is not among the targeted devices`);
  }
  if (pinset.keysetVersion < device.keysetVersion) {
    return fail('E_KEYSET', `pin set authorised by keyset v${pinset.keysetVersion}, device holds v${device.keysetVersion}`);
  }
  let idempotent = false;
  if (pinset.seq < device.installedSeq) {
    return fail('E_ROLLBACK', `seq ${pinset.seq} is below the installed seq ${device.installedSeq}`);
  }
  if (pinset.seq === device.installedSeq) {
    if (device.installedSha256 === undefined || !bytesEqual(device.installedSha256, sha256)) {
      return fail('E_ROLLBACK', `seq ${pinset.seq} is already installed with other bytes`);
    }
    idempotent = true; // equal seq, same bytes: an idempotent accept
  }
  if (pinset.issuedAt > now + MAX_CLOCK_SKEW_SECONDS) {
    return fail('E_NOT_YET', `issuedAt ${pinset.issuedAt} is more than ${MAX_CLOCK_SKEW_SECONDS} s ahead of the device clock ${now}`);
  }
  if (now > pinset.notAfter) return fail('E_EXPIRED', `now ${now} is after notAfter ${pinset.notAfter}`);
  const brick = wouldBrick(pinset, device.servedPins);
  if (brick !== undefined) return fail('E_WOULD_BRICK', brick);
  return { ok: true, pinset, sha256, idempotent };
}

/** SPEC §4 E_WOULD_BRICK: an enforced host whose currently served keys are all absent from the new set. */
export function wouldBrick(pinset: PinSet, served: ReadonlyMap<string, readonly Uint8Array[]> | undefined): string | undefined {
  if (served === undefined) return undefined;
  for (const host of pinset.hosts) {
    if (!host.enforce) continue;
    const live = served.get(host.name);
    if (live === undefined || live.length === 0) continue; // not reachable from here: nothing to compare
    if (!live.some((p) => host.pins.some((q) => bytesEqual(p, q)))) {
      return `${host.name} serves ${live.map((p) => toHex(p).slice(0, 16)).join(', ')}…, none of which the new set pins`;
    }
  }
  return undefined;
}
