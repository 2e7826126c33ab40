import { pinsForHost } from '../coverage/index';
import type { FleetSets } from '../drift-watch/drift-rules';
import type { Finding } from '../findings/finding-register';
import type { LoggedCertificate } from './ct-entry';

/** A name the CT watch follows: a host entry of some current pin set, with the pins any current set gives it. */
export interface WatchedHost {
  host: string;
  includeSubdomains: boolean;
  fleets: string[];
  pins: Set<string>;
}

export function watchedHosts(fleets: readonly FleetSets[]): WatchedHost[] {
  const byName = new Map<string, WatchedHost>();
  for (const f of fleets) {
    for (const s of f.sets) {
      for (const h of s.hosts) {
        const name = h.name.toLowerCase();
        const w = byName.get(name) ?? { host: name, includeSubdomains: false, fleets: [], pins: new Set<string>() };
        w.includeSubdomains ||= h.includeSubdomains;
        if (!w.fleets.includes(f.fleet)) w.fleets.push(f.fleet);
        byName.set(name, w);
      }
      for (const w of byName.values()) pinsForHost(s, w.host)?.pins.forEach((p) => w.pins.add(p));
    }
  }
  return [...byName.values()].sort((a, b) => (a.host < b.host ? -1 : 1));
}

/**
 * Whether a certificate name is valid for the watched host (RFC 6125 §6.4.3: a wildcard stands for exactly one
 * left-most label), or — for an includeSubdomains entry — for any name below it (SPEC §2 host key 2).
 */
export function nameCovers(certName: string, w: Pick<WatchedHost, 'host' | 'includeSubdomains'>): boolean {
  const n = certName.toLowerCase().replace(/\.$/, '');
  if (n === w.host) return true;
  if (n.startsWith('*.') && w.host.includes('.') && n.slice(2) === w.host.slice(w.host.indexOf('.') + 1)) return true;
  if (!w.includeSubdomains) return false;
  return n.endsWith(`.${w.host}`);
}

export function coveredHosts(cert: Pick<LoggedCertificate, 'names'>, watched: readonly WatchedHost[]): WatchedHost[] {
  return watched.filter((w) => cert.names.some((n) => nameCovers(n, w)));
}

/**
 * Issue 16 §3: one finding per logged certificate for one of our names whose key (SPKI pin) no current pin set
 * pins for that name. Keys already pinned are pre-approved: a certificate renewed with the same key, or a next
 * key published ahead of the switch (guided rotation), raises nothing. A finding clears once its key is pinned.
 */
export function ctFindings(certs: readonly LoggedCertificate[], watched: readonly WatchedHost[]): Finding[] {
  const out: Finding[] = [];
  for (const c of certs) {
    for (const w of coveredHosts(c, watched)) {
      if (w.pins.has(c.pin)) continue;
      out.push({
        key: `ct:${w.host}:${c.log}:${c.index}`,
        source: 'ct',
        kind: 'ct-unpinned',
        severity: 'warning',
        fleet: null,
        host: w.host,
        summary: `a certificate for ${c.names.join(', ')} (issuer ${c.issuer}, serial ${c.serial}) with key ${c.pin}, which no pin set pins, is logged in ${c.log}`,
        detail: { ...c, fleets: w.fleets },
      });
    }
  }
  return out;
}

export type MismatchClass = 'logged-for-our-name' | 'not-logged';

/**
 * A device saw a key it does not pin (SPEC §6 report "mismatch"): was that key logged for this name? Logged →
 * likely our own unannounced rotation (a renewal with a new key: publish it or roll back); not logged → likely
 * interception (a TLS-inspecting proxy, a mis-issued certificate kept out of the logs).
 */
export function classifyMismatch(host: string, servedPins: readonly string[], certs: readonly LoggedCertificate[]): { class: MismatchClass; certificates: LoggedCertificate[] } {
  const w = { host: host.toLowerCase(), includeSubdomains: false };
  const hits = certs.filter((c) => servedPins.includes(c.pin) && c.names.some((n) => nameCovers(n, w)));
  return { class: hits.length > 0 ? 'logged-for-our-name' : 'not-logged', certificates: hits };
}
