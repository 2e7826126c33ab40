import { nameCovers } from '../ct-watch/ct-rules';
import type { Clock } from '../clock';
import { currentSets } from '../drift-watch/current-sets';
import { pinsOf } from '../drift-watch/drift-rules';
import type { AuditRepo, CoverageRepo, DeviceRepo, PinSetRepo } from '../registry/repositories';
import type { PinSetViews } from '../registry/pinset-views';
import { rotationReadiness } from '../rotation-gate/rotation-readiness';
import { admissionResponse, keyOfSecret, type AdmissionRequest, type AdmissionResponse } from './admission-review';

export interface FleetVerdict {
  fleet: string;
  host: string;
  ready: boolean;
  coverage: number;
  target: number;
  atRisk: number;
}

export interface AdmissionDecision {
  allowed: boolean;
  pin: string;
  hosts: string[];
  atRisk: number;
  fleets: FleetVerdict[];
}

/**
 * "May host H switch to key K now?" (issue 16 §4), answered from the rotation gate (SPEC §8) for every fleet whose
 * current sets enforce H: allowed only when each of them is ready (coverage of pin(K) ≥ target) or has no device
 * at risk at all (a renewal that keeps the served key: every installed set pins it, even where a device has not
 * re-verified it yet). A host no fleet enforces is not ours to stop. Used by deployment pipelines (POST /api/admission/check) and as a Kubernetes
 * ValidatingAdmissionWebhook for TLS Secrets (POST /api/admission/review).
 */
export class Admission {
  constructor(
    private readonly deps: { devices: DeviceRepo; pinsets: PinSetRepo; coverage: CoverageRepo; views: PinSetViews; audit: AuditRepo; clock: Clock },
    private readonly target = 95,
  ) {}

  async decide(names: readonly string[], pin: string): Promise<AdmissionDecision> {
    const fleets: FleetVerdict[] = [];
    const hosts = new Set<string>();
    const now = this.deps.clock.now();
    for (const f of await currentSets(this.deps)) {
      const enforcedHosts = new Set<string>();
      for (const s of f.sets) for (const h of s.hosts) if (h.enforce) enforcedHosts.add(h.name.toLowerCase());
      for (const host of enforcedHosts) {
        const w = { host, includeSubdomains: f.sets.some((s) => s.hosts.some((h) => h.name.toLowerCase() === host && h.includeSubdomains)) };
        if (!names.some((n) => nameCovers(n, w))) continue;
        // an includeSubdomains parent covers the served name: ask the gate about the name itself
        const served = names.find((n) => !n.startsWith('*.') && nameCovers(n, w)) ?? host;
        if (!pinsOf(f, served).enforced) continue;
        const r = await rotationReadiness(this.deps, { fleet: f.fleet, host: served, pin, target: this.target, limit: 0, now });
        hosts.add(served);
        fleets.push({ fleet: f.fleet, host: served, ready: r.ready, coverage: r.coverage, target: r.target, atRisk: r.atRisk });
      }
    }
    return { allowed: fleets.every((v) => v.ready || v.atRisk === 0), pin, hosts: [...hosts], atRisk: fleets.reduce((n, v) => n + v.atRisk, 0), fleets };
  }

  async review(request: AdmissionRequest, actor: string): Promise<AdmissionResponse> {
    const { audit } = this.deps;
    if (request.operation === 'DELETE' || request.operation === 'CONNECT') {
      return admissionResponse(request.uid, true, `${request.operation}: nothing is served by it`);
    }
    const key = keyOfSecret(request.object);
    if (key.kind === 'not-tls') return admissionResponse(request.uid, true, `not checked: ${key.why}`);
    if (key.kind === 'bad') {
      await audit.append(actor, 'admission.denied', request.name ?? null, { uid: request.uid, why: key.why });
      return admissionResponse(request.uid, false, `pin gateway: ${key.why}`);
    }
    const d = await this.decide(key.names, key.pin);
    const target = `${key.secret} (${key.names.join(', ')})`;
    await audit.append(actor, d.allowed ? 'admission.allowed' : 'admission.denied', target, { uid: request.uid, operation: request.operation, ...d });
    if (d.fleets.length === 0) return admissionResponse(request.uid, true, `no fleet enforces ${key.names.join(', ')}: not gated`);
    const lines = d.fleets.map((v) => `${v.fleet}/${v.host}: ${v.coverage} % of target ${v.target} %, ${v.atRisk} at risk`);
    if (d.allowed) return admissionResponse(request.uid, true, `pin gateway: key ${key.pin} is covered`, d.atRisk > 0 ? [`${d.atRisk} devices still lack key ${key.pin.slice(0, 20)}…`] : []);
    return admissionResponse(request.uid, false, `pin gateway: ${d.atRisk} devices would lose connectivity if ${key.secret} switched to key ${key.pin} now: ${lines.join('; ')}`);
  }
}
