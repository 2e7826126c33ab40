import { pinsForHost, type HostPinsView, type PinSetView } from '../coverage/index';
import type { Finding } from '../findings/finding-register';

/** A fleet and the pin sets it holds now: every set some device has installed, plus its newest issued set. */
export interface FleetSets {
  fleet: string;
  sets: readonly SetWithPorts[];
}

/** Coverage's view of a set plus each host's port (SPEC §2 host key 5), which the probe needs. */
export type SetWithPorts = PinSetView & { readonly hosts: readonly (HostPinsView & { readonly port?: number })[] };

export interface HostPort {
  host: string;
  port: number;
}

export type Probe = { ok: true; leaf: string; chain: readonly string[] } | { ok: false; error: string };

/** What the rotation gate says about one pin for a fleet (rotation-gate/rotation-readiness.ts). */
export interface PinReadiness {
  coverage: number;
  atRisk: number;
  devices: readonly { deviceId: string; online: boolean; why: string }[];
}

/**
 * Every host entry of every current set, enforced and report-only, on the port the set names (SPEC §2 host key 5;
 * 443 when absent), each once.
 */
export function hostsToProbe(fleets: readonly FleetSets[]): HostPort[] {
  const out = new Map<string, HostPort>();
  for (const f of fleets) {
    for (const s of f.sets) {
      for (const h of s.hosts) {
        const hp = { host: h.name.toLowerCase(), port: h.port ?? 443 };
        out.set(`${hp.host}:${hp.port}`, hp);
      }
    }
  }
  return [...out.values()].sort((a, b) => (a.host === b.host ? a.port - b.port : a.host < b.host ? -1 : 1));
}

/** Pins the fleet's current sets give `host` (own entry or an includeSubdomains parent), and whether any enforces it. */
export function pinsOf(fleet: FleetSets, host: string): { pins: Set<string>; enforced: boolean } {
  const pins = new Set<string>();
  let enforced = false;
  for (const s of fleet.sets) {
    const entry = pinsForHost(s, host);
    if (entry === null) continue;
    entry.pins.forEach((p) => pins.add(p));
    enforced ||= entry.enforce;
  }
  return { pins, enforced };
}

/** At most this many devices are listed in a finding (the count is complete). */
export const LISTED_DEVICES = 100;

/**
 * Issue 16 §2, for one fleet that enforces `host` and the key it serves now:
 *  - the served key (any key of the served chain, as a device matches it) is in none of the fleet's current
 *    sets → critical `drift-unpinned`: a key change nobody announced (a renewal with a new key, a CDN swap);
 *  - it is pinned but its coverage is below the rotation target → warning `drift-low-coverage`: the switch
 *    happened (or is half-done behind a load balancer) before the fleet was ready.
 * Either way the finding carries the number of devices that would fail right now and lists them. `readiness`
 * is asked for the best-covered served pin. Pure: the watch does the probing and the registry reads.
 */
export function driftFinding(
  input: { fleet: string; hp: HostPort; served: Extract<Probe, { ok: true }>; pinned: Set<string>; target: number },
  readiness: (pin: string) => PinReadiness,
): Finding | null {
  const { fleet, hp, served, pinned, target } = input;
  const candidates = served.chain.filter((p) => pinned.has(p));
  const base = { fleet, host: hp.host, source: 'drift' as const };
  if (candidates.length === 0) {
    const r = readiness(served.leaf);
    return {
      ...base,
      key: `drift:${fleet}:${hp.host}:${hp.port}:unpinned:${served.leaf}`,
      kind: 'drift-unpinned',
      severity: 'critical',
      summary: `${hp.host}:${hp.port} serves ${served.leaf}, which no current pin set of fleet ${fleet} pins: ${r.atRisk} devices would fail now`,
      detail: { port: hp.port, servedPin: served.leaf, servedChain: served.chain, atRisk: r.atRisk, coverage: r.coverage, devices: r.devices.slice(0, LISTED_DEVICES) },
    };
  }
  const best = candidates.map((pin) => ({ pin, r: readiness(pin) })).sort((a, b) => b.r.coverage - a.r.coverage)[0];
  if (best === undefined || best.r.coverage >= target) return null;
  return {
    ...base,
    key: `drift:${fleet}:${hp.host}:${hp.port}:coverage:${best.pin}`,
    kind: 'drift-low-coverage',
    severity: best.r.atRisk > 0 ? 'critical' : 'warning',
    summary: `${hp.host}:${hp.port} serves ${best.pin}, pinned by only ${best.r.coverage} % of fleet ${fleet} (target ${target} %): ${best.r.atRisk} devices would fail now`,
    detail: { port: hp.port, servedPin: best.pin, servedChain: served.chain, coverage: best.r.coverage, target, atRisk: best.r.atRisk, devices: best.r.devices.slice(0, LISTED_DEVICES) },
  };
}
