import type { PinSet } from '../shared/index';
import type { HostAddress } from './device-types';
import { enforcedHosts, pinsMatch } from './pin-policy';

export interface HostCheck {
  readonly name: string;
  readonly port: number;
  readonly served: readonly Uint8Array[];
}

export type VerifyOutcome =
  | { readonly ok: true; readonly verified: readonly HostCheck[] }
  | { readonly ok: false; readonly failed: HostCheck };

/**
 * SPEC §6 "verified": a TLS handshake to each enforced host the device can reach, whose served keys must be
 * pinned by the set. Hosts without an address (not reachable from this device) or whose handshake fails
 * (unreachable now) are skipped; the first reachable host serving an unpinned key fails the verification.
 */
export async function checkEnforcedHosts(
  pinset: PinSet,
  addressOf: (name: string) => HostAddress | undefined,
  probe: (name: string, at: HostAddress) => Promise<readonly Uint8Array[]>,
): Promise<VerifyOutcome> {
  const verified: HostCheck[] = [];
  for (const host of enforcedHosts(pinset)) {
    const at = addressOf(host.name);
    if (at === undefined) continue;
    let served: readonly Uint8Array[];
    try {
      served = await probe(host.name, at);
    } catch {
      continue;
    }
    const check = { name: host.name, port: at.port, served };
    if (!pinsMatch(host, served)) return { ok: false, failed: check };
    verified.push(check);
  }
  return { ok: true, verified };
}

/** Pins the reachable hosts serve now (SPEC §4 E_WOULD_BRICK): the broker's from the live connection. */
export async function liveServedPins(
  brokerHostname: string,
  brokerServed: readonly Uint8Array[],
  hostMap: ReadonlyMap<string, HostAddress> | undefined,
  probe: (name: string, at: HostAddress) => Promise<readonly Uint8Array[]>,
): Promise<Map<string, readonly Uint8Array[]>> {
  const served = new Map<string, readonly Uint8Array[]>();
  if (brokerServed.length > 0) served.set(brokerHostname, brokerServed);
  for (const [name, at] of hostMap ?? []) {
    if (name === brokerHostname) continue;
    try {
      served.set(name, await probe(name, at));
    } catch {
      // unreachable from here: nothing to compare (SPEC §4)
    }
  }
  return served;
}
