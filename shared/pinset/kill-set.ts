import { err, ok, type Result } from '../result';
import type { PinSetJson } from './json';

/**
 * Emergency kill switch (issue 16): how a pin set stops enforcing one host.
 *  - `fail-open`: the host stays in the set with enforce = false. SPEC §2 allows an unenforced host with its pins,
 *    so devices validate it with the ordinary CAs and keep reporting what it serves (SPEC §6 report): the
 *    incident keeps its telemetry.
 *  - `unpin`: the host entry is removed. SPEC §2 needs 1..64 hosts, so a set whose only host it is cannot be
 *    unpinned (use fail-open).
 */
export type KillMode = 'fail-open' | 'unpin';
export const KILL_MODES: readonly KillMode[] = ['fail-open', 'unpin'];

export interface KillSetFields {
  seq: number;
  issuedAt: number;
  notAfter: number;
}

/**
 * The kill set for `host`, derived from `base` (the fleet's newest set): same hosts and pins, the named host no
 * longer enforced, the whole fleet as target (a kill must reach every device, whatever subset `base` aimed at).
 * Pure: the gateway and `pinctl kill` build the same document from the same inputs.
 */
export function killSetFrom(base: PinSetJson, host: string, mode: KillMode, fields: KillSetFields): Result<PinSetJson, string> {
  const name = host.toLowerCase();
  const entry = base.hosts.find((h) => h.name.toLowerCase() === name);
  if (entry === undefined) {
    return err(`host "${name}" is not in the base set (seq ${base.seq}); its hosts are ${base.hosts.map((h) => h.name).join(', ')}`);
  }
  if (mode === 'unpin' && base.hosts.length === 1) {
    return err(`"${name}" is the only host of the base set and SPEC §2 needs at least one host: use mode fail-open`);
  }
  const hosts =
    mode === 'unpin'
      ? base.hosts.filter((h) => h !== entry).map((h) => ({ ...h, pins: [...h.pins] }))
      : base.hosts.map((h) => (h === entry ? { ...h, pins: [...h.pins], enforce: false } : { ...h, pins: [...h.pins] }));
  const out: PinSetJson = {
    format: base.format,
    seq: fields.seq,
    issuedAt: fields.issuedAt,
    notAfter: fields.notAfter,
    target: { fleet: base.target.fleet },
    hosts,
    keysetVersion: base.keysetVersion,
  };
  return ok(out);
}

/**
 * Whether `candidate` (e.g. an envelope signed offline with `pinctl kill`) is exactly the kill set of `host` over
 * `base` in some mode: the gateway accepts only that as a kill, never an arbitrary set on the fast path that
 * skips the waves. Returns the mode, or why not.
 */
export function matchKillSet(base: PinSetJson, candidate: PinSetJson, host: string): Result<KillMode, string> {
  const fields = { seq: candidate.seq, issuedAt: candidate.issuedAt, notAfter: candidate.notAfter };
  const canon = (p: PinSetJson) =>
    JSON.stringify({ ...p, hosts: [...p.hosts].map((h) => ({ ...h, name: h.name.toLowerCase(), pins: [...h.pins].sort() })).sort((a, b) => (a.name < b.name ? -1 : 1)) });
  const reasons: string[] = [];
  for (const mode of KILL_MODES) {
    const expected = killSetFrom(base, host, mode, fields);
    if (!expected.ok) {
      reasons.push(expected.error);
      continue;
    }
    if (candidate.keysetVersion !== base.keysetVersion) {
      // a keyset rotation in between is fine: only the signer changed, the hosts are what matter
      if (canon({ ...expected.value, keysetVersion: 0 }) === canon({ ...candidate, keysetVersion: 0 })) return ok(mode);
    } else if (canon(expected.value) === canon(candidate)) return ok(mode);
    reasons.push(`not the ${mode} kill set of ${host.toLowerCase()} over seq ${base.seq}`);
  }
  return err(reasons.join('; '));
}
