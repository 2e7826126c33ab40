/**
 * Issue 16: the pure parts — the kill set and its matcher (shared, also pinctl's), the guided-rotation step table,
 * keys from pins / PEM keys / CSRs / certificates (against openssl), the AdmissionReview Secret reader, drift rules.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { keyOfSecret } from '../../gateway/admission/admission-review';
import { driftFinding, hostsToProbe, pinsOf } from '../../gateway/drift-watch/drift-rules';
import { pinFromKeyInput } from '../../gateway/guided-rotation/key-input';
import { expectedAction, nextStep, PLAN_ACTIONS, PLAN_STEPS } from '../../gateway/guided-rotation/plan-steps';
import { killSetFrom, matchKillSet, pinSetFromJson, type PinSetJson } from '../../shared/index';
import { makeCert, opensslPin } from '../support/tls';

const pin = (n: number) => 'sha256/' + Buffer.alloc(32, n).toString('base64');
const base: PinSetJson = {
  format: 1, seq: 7, issuedAt: 1000, notAfter: 9000, keysetVersion: 1,
  target: { fleet: 'f', deviceClasses: ['a'] },
  hosts: [
    { name: 'api.example.com', includeSubdomains: false, pins: [pin(1), pin(2)], enforce: true, port: 8443 },
    { name: 'cdn.example.com', includeSubdomains: true, pins: [pin(3), pin(4)], enforce: true },
  ],
};
const fields = { seq: 8, issuedAt: 2000, notAfter: 10_000 };

describe('kill set', () => {
  it('fail-open keeps the host unenforced with its pins, targets the whole fleet, and is a valid SPEC §2 set', () => {
    const k = killSetFrom(base, 'API.example.com', 'fail-open', fields);
    expect(k.ok && k.value.hosts).toEqual([{ ...base.hosts[0], enforce: false }, base.hosts[1]]);
    expect(k.ok && k.value.target).toEqual({ fleet: 'f' });
    expect(k.ok && pinSetFromJson(k.value).ok).toBe(true);
  });

  it('unpin removes the host; refused for the only host or an unknown host', () => {
    const k = killSetFrom(base, 'cdn.example.com', 'unpin', fields);
    expect(k.ok && k.value.hosts.map((h) => h.name)).toEqual(['api.example.com']);
    const only = killSetFrom({ ...base, hosts: [base.hosts[0]!] }, 'api.example.com', 'unpin', fields);
    expect(only).toEqual({ ok: false, error: expect.stringContaining('only host') });
    expect(killSetFrom(base, 'x.example.com', 'fail-open', fields)).toEqual({ ok: false, error: expect.stringContaining('not in the base set') });
  });

  it('matches exactly the kill set in either mode, whatever the order of hosts and pins; nothing else', () => {
    const k = killSetFrom(base, 'api.example.com', 'fail-open', fields);
    if (!k.ok) throw new Error(k.error);
    const shuffled = { ...k.value, hosts: [...k.value.hosts].reverse().map((h) => ({ ...h, pins: [...h.pins].reverse() })) };
    expect(matchKillSet(base, shuffled, 'api.example.com')).toEqual({ ok: true, value: 'fail-open' });
    const u = killSetFrom(base, 'api.example.com', 'unpin', fields);
    expect(u.ok && matchKillSet(base, u.value, 'api.example.com')).toEqual({ ok: true, value: 'unpin' });
    // a kill set that also slips in a new pin, or relaxes another host, or names the other host: refused
    const extraPin = { ...k.value, hosts: k.value.hosts.map((h) => (h.name === 'cdn.example.com' ? { ...h, pins: [...h.pins, pin(9)] } : h)) };
    expect(matchKillSet(base, extraPin, 'api.example.com').ok).toBe(false);
    const both = { ...k.value, hosts: k.value.hosts.map((h) => ({ ...h, enforce: false })) };
    expect(matchKillSet(base, both, 'api.example.com').ok).toBe(false);
    expect(matchKillSet(base, k.value, 'cdn.example.com').ok).toBe(false);
    expect(matchKillSet(base, { ...k.value, target: { fleet: 'g' } }, 'api.example.com').ok).toBe(false);
  });
});

describe('guided rotation steps', () => {
  it('allows exactly one action per step, in order, and cancel before done', () => {
    const order = ['publish', 'roll-out', 'confirm-gate', 'record-switch', 'publish-next', 'complete'] as const;
    let step: (typeof PLAN_STEPS)[number] = 'planned';
    for (const action of order) {
      expect(expectedAction(step)).toBe(action);
      for (const other of PLAN_ACTIONS.filter((a) => a !== action && a !== 'cancel')) expect(nextStep(step, other).ok).toBe(false);
      const r = nextStep(step, action);
      if (!r.ok) throw new Error(r.error);
      step = r.to;
    }
    expect(step).toBe('done');
    expect(expectedAction('done')).toBeNull();
    expect(nextStep('done', 'cancel').ok).toBe(false);
    expect(nextStep('rolling-out', 'cancel')).toEqual({ ok: true, to: 'cancelled' });
    expect(nextStep('planned', 'roll-out')).toEqual({ ok: false, error: '"roll-out" needs the step "published"; the plan is at "planned"' });
  });
});

describe('keys before they are served', () => {
  const cert = makeCert('next.example.com');
  const expected = opensslPin(cert.certPem);
  it('gives the same pin as openssl from a certificate, a public key, a CSR and a private key', () => {
    const pub = execFileSync('openssl', ['pkey', '-pubout'], { input: cert.keyPem }).toString();
    const csr = execFileSync('openssl', ['req', '-new', '-key', join(cert.dir, 'key.pem'), '-subj', '/CN=next.example.com']).toString();
    expect(csr).toContain('BEGIN CERTIFICATE REQUEST');
    for (const input of [cert.certPem, pub, csr, cert.keyPem, expected]) expect(pinFromKeyInput(input)).toEqual({ ok: true, value: expected });
  });

  it('refuses what is not a key, with the reason', () => {
    expect(pinFromKeyInput('hello')).toEqual({ ok: false, error: expect.stringContaining('expected a pin') });
    expect(pinFromKeyInput('sha256/short').ok).toBe(false);
    expect(pinFromKeyInput('-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----')).toEqual({ ok: false, error: expect.stringContaining('cannot read the key') });
  });
});

describe('AdmissionReview Secret reader', () => {
  const cert = makeCert('api.example.com');
  const secret = (data: Record<string, string>, type = 'kubernetes.io/tls') => ({ kind: 'Secret', type, metadata: { name: 's', namespace: 'n' }, data });
  it('reads the leaf key and names of a TLS Secret', () => {
    const chain = cert.certPem + makeCert('intermediate').certPem; // leaf first
    expect(keyOfSecret(secret({ 'tls.crt': Buffer.from(chain).toString('base64') }))).toEqual({
      kind: 'tls', pin: opensslPin(cert.certPem), names: ['api.example.com'], secret: 'n/s',
    });
  });
  it('leaves other objects alone and refuses an unreadable TLS Secret', () => {
    expect(keyOfSecret(secret({}, 'Opaque')).kind).toBe('not-tls');
    expect(keyOfSecret({ kind: 'ConfigMap' }).kind).toBe('not-tls');
    expect(keyOfSecret(null).kind).toBe('not-tls');
    expect(keyOfSecret(secret({}))).toEqual({ kind: 'bad', why: 'TLS Secret n/s has no data["tls.crt"]' });
    const lines = cert.certPem.trim().split('\n');
    const broken = [lines[0], ...lines.slice(1, 4), lines.at(-1)].join('\n'); // a PEM whose DER is cut short
    expect(keyOfSecret(secret({ 'tls.crt': Buffer.from(broken).toString('base64') })).kind).toBe('bad');
  });
});

describe('drift rules', () => {
  const view = (pins: string[], enforce = true, port?: number) => ({
    hosts: [{ name: 'api.example.com', includeSubdomains: false, pins, enforce, ...(port === undefined ? {} : { port }) }],
  });
  const fleets = [
    { fleet: 'a', sets: [view([pin(1), pin(2)], true, 8443), view([pin(2), pin(3)])] },
    { fleet: 'b', sets: [{ hosts: [{ name: 'example.com', includeSubdomains: true, pins: [pin(5)], enforce: false }] }] },
  ];
  it('probes each host entry once on its port; pins of a fleet include subdomain parents', () => {
    expect(hostsToProbe(fleets)).toEqual([{ host: 'api.example.com', port: 443 }, { host: 'api.example.com', port: 8443 }, { host: 'example.com', port: 443 }]);
    expect(pinsOf(fleets[0]!, 'api.example.com')).toEqual({ pins: new Set([pin(1), pin(2), pin(3)]), enforced: true });
    expect(pinsOf(fleets[1]!, 'api.example.com')).toEqual({ pins: new Set([pin(5)]), enforced: false });
  });
  it('unpinned → critical; pinned under target → low coverage; a pinned chain key counts', () => {
    const hp = { host: 'api.example.com', port: 443 };
    const r = (coverage: number, atRisk: number) => () => ({ coverage, atRisk, devices: [] });
    const pinned = new Set([pin(1), pin(2)]);
    expect(driftFinding({ fleet: 'a', hp, served: { ok: true, leaf: pin(9), chain: [pin(9)] }, pinned, target: 95 }, r(0, 4))).toMatchObject({ kind: 'drift-unpinned', severity: 'critical', detail: { atRisk: 4 } });
    expect(driftFinding({ fleet: 'a', hp, served: { ok: true, leaf: pin(1), chain: [pin(1)] }, pinned, target: 95 }, r(90, 3))).toMatchObject({ kind: 'drift-low-coverage', detail: { coverage: 90, atRisk: 3 } });
    expect(driftFinding({ fleet: 'a', hp, served: { ok: true, leaf: pin(9), chain: [pin(9), pin(2)] }, pinned, target: 95 }, r(100, 0))).toBeNull();
  });
});
