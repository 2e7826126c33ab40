import { bytesEqual, type HostPins, type PinSet, type ReportResult } from '../shared/index';

/**
 * How a device decides whether to trust a TLS server, from its installed pin set (SPEC §1, §2, §6). Pure.
 *
 * - A host entry applies to its exact name, or to a sub-domain when includeSubdomains is set (RFC 7469 §2.1.2);
 *   the most specific entry wins.
 * - A pin matches when any key the server presented (leaf or chain, RFC 7469 §2.6) is in the entry's pins.
 * - enforce = true: a mismatch is refused (no MQTT byte is sent) and reported as "mismatch" — until
 *   failOpenAfter has passed, after which ordinary CA validation decides and the device reports "fail-open".
 * - enforce = false (report-only) and hosts without an entry: ordinary CA validation decides; a report-only
 *   mismatch is reported.
 */
export function hostPinsFor(pinset: PinSet | undefined, hostname: string): HostPins | undefined {
  if (pinset === undefined) return undefined;
  const name = hostname.toLowerCase();
  let best: HostPins | undefined;
  for (const h of pinset.hosts) {
    const applies = h.name === name || (h.includeSubdomains && name.endsWith(`.${h.name}`));
    if (applies && (best === undefined || h.name.length > best.name.length)) best = h;
  }
  return best;
}

export function pinsMatch(host: HostPins, served: readonly Uint8Array[]): boolean {
  return served.some((p) => host.pins.some((q) => bytesEqual(p, q)));
}

export interface TrustInput {
  readonly pinset: PinSet | undefined;
  readonly hostname: string;
  /** Pins of every certificate the server presented, leaf first. */
  readonly served: readonly Uint8Array[];
  /** The chain validates against the configured CA and the name matches (ordinary validation). */
  readonly caValid: boolean;
  /** Device clock, unix seconds. */
  readonly nowSec: number;
}

export type TrustDecision =
  | { readonly allow: true; readonly pinned: boolean; readonly report?: ReportResult }
  | { readonly allow: false; readonly reason: string; readonly report?: ReportResult };

export function decideTrust(i: TrustInput): TrustDecision {
  const host = hostPinsFor(i.pinset, i.hostname);
  if (host === undefined) {
    return i.caValid ? { allow: true, pinned: false } : { allow: false, reason: `${i.hostname} is not pinned and fails CA validation` };
  }
  const matched = pinsMatch(host, i.served);
  if (!host.enforce) {
    const report = matched ? {} : { report: 'mismatch' as const };
    return i.caValid
      ? { allow: true, pinned: false, ...report }
      : { allow: false, reason: `${i.hostname} (report-only pins) fails CA validation`, ...report };
  }
  if (matched) return { allow: true, pinned: true };
  const failOpen = i.pinset?.failOpenAfter;
  if (failOpen !== undefined && i.nowSec > failOpen) {
    return i.caValid
      ? { allow: true, pinned: false, report: 'fail-open' }
      : { allow: false, reason: `${i.hostname}: pins expired (fail-open) but CA validation fails`, report: 'mismatch' };
  }
  return { allow: false, reason: `${i.hostname} serves a key that the installed set does not pin`, report: 'mismatch' };
}

/** Enforced hosts of a set, with the port to check (host map port wins, then the set's, then 443). */
export function enforcedHosts(pinset: PinSet | undefined): HostPins[] {
  return pinset === undefined ? [] : pinset.hosts.filter((h) => h.enforce);
}
