/**
 * Issue 16 §4, §5: a guided rotation walked end to end against the real gateway, a real TLS server whose key the
 * test switches, and real mqtt.js devices; the admission endpoint answered with real AdmissionReview documents;
 * the prediction of who fails at the planned switch time.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { fetchServerPins } from '../../shared/index';
import { makeCert, opensslPin, startTlsServer, type TestCert } from '../support/tls';
import { waitFor } from '../gateway/helpers/wait-for';
import { connectAll, disconnectAll, FAST_CONFIG, startFixture, type Fixture } from '../rollout-driver/helpers/rollout-fixture';
import type { SimDevice } from '../rollout-driver/helpers/sim-device';

const HOST = 'api.example.com';
const DAY = 86_400;

/** An AdmissionReview (admission.k8s.io/v1) as the API server sends it for a TLS Secret. */
function review(uid: string, operation: string, object: unknown) {
  return {
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid, kind: { group: '', version: 'v1', kind: 'Secret' }, resource: { group: '', version: 'v1', resource: 'secrets' },
      requestKind: { group: '', version: 'v1', kind: 'Secret' }, name: 'api-tls', namespace: 'prod', operation,
      userInfo: { username: 'system:serviceaccount:cert-manager:cert-manager', groups: ['system:serviceaccounts'] },
      object, oldObject: null, dryRun: false, options: { apiVersion: 'meta.k8s.io/v1', kind: 'CreateOptions' },
    },
  };
}
const tlsSecret = (cert: TestCert | { certPem: string; keyPem: string }) => ({
  apiVersion: 'v1', kind: 'Secret', type: 'kubernetes.io/tls', metadata: { name: 'api-tls', namespace: 'prod', annotations: { 'cert-manager.io/issuer-name': 'le' } },
  data: { 'tls.crt': Buffer.from(cert.certPem).toString('base64'), 'tls.key': Buffer.from(cert.keyPem).toString('base64') },
});

describe('guided rotation', () => {
  let f: Fixture | null = null;
  let devices: SimDevice[] = [];
  let server: Awaited<ReturnType<typeof startTlsServer>> | null = null;
  afterEach(async () => {
    await disconnectAll(devices);
    devices = [];
    await f?.close();
    f = null;
    await server?.close();
    server = null;
  });

  it('walks current → next → new next with gates, a drift finding and its resolution, admission and the prediction', async () => {
    const [k1, k2, b, k3] = [makeCert(HOST), makeCert(HOST), makeCert(HOST), makeCert(HOST)];
    const [p1, p2, pb, p3] = [k1, k2, b, k3].map((c) => opensslPin(c.certPem)) as [string, string, string, string];
    // the next key as the operator has it before it is ever served: a CSR (certbot --reuse-key, cert-manager
    // rotationPolicy: Never); the new next key as a bare public key (acme.sh's .next key)
    writeFileSync(join(k2.dir, 'key.pem'), k2.keyPem);
    const k2Csr = execFileSync('openssl', ['req', '-new', '-key', join(k2.dir, 'key.pem'), '-subj', `/CN=${HOST}`]).toString();
    const k3Pub = execFileSync('openssl', ['pkey', '-pubout'], { input: k3.keyPem }).toString();
    server = await startTlsServer(k1);
    const port = server.port;
    const probe = (host: string, p: number, opts: { timeoutMs: number }) =>
      host === HOST ? fetchServerPins('127.0.0.1', p, { ...opts, servername: HOST }) : Promise.reject(new Error('unreachable'));
    f = await startFixture({ ...FAST_CONFIG, lifecycle: { driftIntervalMs: 0 } }, undefined, { fetchServerPins: probe });
    const call = f.call;

    // factory state: 10 devices hold {K1, B}, fail-open in 2 days
    devices = await f.enrolFleet('gr', 10);
    for (const d of devices) d.serve(p1);
    await connectAll(f.url, devices);
    const now = Math.floor(Date.now() / 1000);
    const factory = await call('POST', '/api/pinsets', { target: { fleet: 'gr' }, hosts: [{ name: HOST, includeSubdomains: false, pins: [p1, pb], enforce: true, port }], failOpenAfter: now + 2 * DAY });
    expect(factory.status).toBe(201);
    await call('POST', `/api/pinsets/${factory.body.id}/deliver`, {});
    await waitFor('factory set verified by all 10 in the registry', async () => {
      const r = (await call('GET', `/api/fleets/gr/rotation-readiness?host=${HOST}&pin=${encodeURIComponent(p1)}`)).body;
      return r.verified === 10 ? true : null;
    });
    await disconnectAll(devices); // the fleet goes offline: the plan's rollout reaches them on reconnect
    await waitFor('the gateway sees the fleet offline', async () => {
      const fleets = (await call('GET', '/api/fleets')).body as { fleet: string; online: number }[];
      return fleets.find((x) => x.fleet === 'gr')?.online === 0 ? true : null;
    });

    // the plan: keys from a pin, a CSR and a certificate; target 80 %; planned switch tomorrow
    const bad = await call('POST', '/api/rotation-plans', { fleet: 'gr', host: HOST, current: p1, next: 'not a key at all', backup: b.certPem });
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toContain('next');
    const created = await call('POST', '/api/rotation-plans', { fleet: 'gr', host: HOST, port, current: p1, next: k2Csr, backup: b.certPem, target: 80, switchAt: now + DAY });
    expect(created.status).toBe(201);
    const plan = created.body;
    expect(plan).toMatchObject({ step: 'planned', expectedAction: 'publish', currentPin: p1, nextPin: p2, backupPin: pb, target: 80 });
    expect((await call('POST', '/api/rotation-plans', { fleet: 'gr', host: HOST, current: p1, next: p2, backup: pb })).status).toBe(409);
    const outOfOrder = await call('POST', `/api/rotation-plans/${plan.id}/roll-out`);
    expect(outOfOrder.status).toBe(409);
    expect(outOfOrder.body.error).toMatchObject({ code: 'E_PLAN_STEP', expectedAction: 'publish' });

    const published = (await call('POST', `/api/rotation-plans/${plan.id}/publish`)).body;
    expect(published.step).toBe('published');
    const stage1 = (await call('GET', `/api/pinsets/${published.stage1PinsetId}`)).body.pinset;
    expect(stage1.hosts[0]).toMatchObject({ name: HOST, enforce: true, port });
    expect([...stage1.hosts[0].pins].sort()).toEqual([p1, p2, pb].sort());
    const rolling = (await call('POST', `/api/rotation-plans/${plan.id}/roll-out`, { rollout: { plan: { waves: [{ limit: { percent: 100 } }] }, gates: { soakMs: 0, successPercent: 50 } } })).body;
    expect(rolling).toMatchObject({ step: 'rolling-out', expectedAction: 'confirm-gate' });

    // gate not met: nobody holds the next key yet; the prediction for tomorrow lists all 10, all offline
    const early = await call('POST', `/api/rotation-plans/${plan.id}/confirm-gate`);
    expect(early.status).toBe(422);
    expect(early.body.error).toMatchObject({ code: 'E_GATE_NOT_MET', readiness: { atRisk: 10, coverage: 0 } });
    expect(rolling.prediction).toMatchObject({ at: now + DAY, atRisk: 10, atRiskOffline: 10 });

    // 8 devices come back, get {K1, K2, B} from the rollout and verify it; 2 stay offline
    const back = devices.slice(0, 8);
    const away = devices.slice(8);
    await connectAll(f.url, back);
    await waitFor('8 devices verified the next key', async () => {
      const r = (await call('GET', `/api/fleets/gr/rotation-readiness?host=${HOST}&pin=${encodeURIComponent(p2)}&target=80`)).body;
      return r.verified === 8 ? r : null;
    }, 20_000);
    const viewed = (await call('GET', `/api/rotation-plans/${plan.id}`)).body;
    expect(viewed.gate).toMatchObject({ ready: true, coverage: 80, atRisk: 2, atRiskOffline: 2 });
    expect(viewed.prediction).toMatchObject({ atRisk: 2, atRiskOffline: 2 });
    expect(viewed.prediction.devices.map((d: { deviceId: string }) => d.deviceId).sort()).toEqual(away.map((d) => d.id).sort());
    // after the factory set's fail-open date the 2 offline devices fall back to CA validation: nobody fails then
    const later = (await call('GET', `/api/fleets/gr/rotation-readiness?host=${HOST}&pin=${encodeURIComponent(p2)}&target=80&at=${now + 3 * DAY}`)).body;
    expect(later).toMatchObject({ at: now + 3 * DAY, atRisk: 0, atRiskOffline: 0 });

    // admission at the fleet's 95 % bar: K2 is not safe yet (2 at risk), K1 (a renewal with the same key) is
    const denied = (await call('POST', '/api/admission/review', review('uid-1', 'UPDATE', tlsSecret(k2)))).body;
    expect(denied).toMatchObject({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response: { uid: 'uid-1', allowed: false, status: { code: 403 } } });
    expect(denied.response.status.message).toContain('2 devices would lose connectivity');
    const k1r = (await call('POST', '/api/admission/review', review('uid-2', 'UPDATE', tlsSecret(k1)))).body.response;
    expect(k1r).toMatchObject({ uid: 'uid-2', allowed: true });
    expect((await call('POST', '/api/admission/review', review('uid-3', 'CREATE', { kind: 'Secret', type: 'Opaque', data: {} }))).body.response.allowed).toBe(true);
    expect((await call('POST', '/api/admission/review', review('uid-4', 'DELETE', null))).body.response.allowed).toBe(true);
    const garbage = (await call('POST', '/api/admission/review', review('uid-5', 'CREATE', { ...tlsSecret(k2), data: { 'tls.crt': Buffer.from('junk').toString('base64') } }))).body;
    expect(garbage.response).toMatchObject({ allowed: false, status: { message: expect.stringContaining('no PEM certificate') } });
    expect((await call('POST', '/api/admission/review', { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request: { operation: 'CREATE' } })).status).toBe(400);
    expect((await call('POST', '/api/admission/check', { host: HOST, key: p2 })).body).toMatchObject({ allowed: false, atRisk: 2, fleets: [{ fleet: 'gr', coverage: 80 }] });
    expect((await call('POST', '/api/admission/check', { host: 'elsewhere.example.org', key: p2 })).body).toMatchObject({ allowed: true, fleets: [] });

    const safe = (await call('POST', `/api/rotation-plans/${plan.id}/confirm-gate`)).body;
    expect(safe).toMatchObject({ step: 'safe-to-switch', expectedAction: 'record-switch' });

    // the server switches to K2; drift watch sees it: the plan records the switch by itself, and the 2 devices
    // still offline make a drift finding (coverage 80 % < 95 %)
    server.server.setSecureContext({ key: k2.keyPem, cert: k2.certPem });
    for (const d of devices) d.serve(p2);
    const run = (await call('POST', '/api/drift-watch/run')).body;
    expect(run.raised).toBe(1);
    const finding = (await call('GET', '/api/findings?kind=drift')).body.open[0];
    expect(finding).toMatchObject({ kind: 'drift-low-coverage', detail: { servedPin: p2, atRisk: 2 } });
    const switched = await waitFor('switch recorded from drift watch', async () => {
      const p = (await call('GET', `/api/rotation-plans/${plan.id}`)).body;
      return p.step === 'switched' ? p : null;
    });
    expect(switched.history.at(-1)).toMatchObject({ actor: 'drift-watch', action: 'record-switch' });
    expect((await call('GET', '/api/rotations?fleet=gr')).body[0]).toMatchObject({ host: HOST, pin: p2, forced: false, recordedBy: 'drift-watch' });

    // resolution: the 2 come back, get the set, and the next drift run clears the finding
    await connectAll(f.url, away);
    await waitFor('all 10 verified the next key', async () => {
      const r = (await call('GET', `/api/fleets/gr/rotation-readiness?host=${HOST}&pin=${encodeURIComponent(p2)}`)).body;
      return r.verified === 10 ? true : null;
    }, 20_000);
    expect((await call('POST', '/api/drift-watch/run')).body).toMatchObject({ cleared: 1, open: 0 });

    // {K2, B, K3} rolled out, then done
    expect((await call('POST', `/api/rotation-plans/${plan.id}/publish-next`)).status).toBe(400); // newNext missing
    const finishing = (await call('POST', `/api/rotation-plans/${plan.id}/publish-next`, { newNext: k3Pub, rollout: { plan: { waves: [{ limit: { percent: 100 } }] }, gates: { soakMs: 0 } } })).body;
    expect(finishing).toMatchObject({ step: 'finishing', newNextPin: p3 });
    const stage2 = (await call('GET', `/api/pinsets/${finishing.stage2PinsetId}`)).body.pinset;
    expect([...stage2.hosts[0].pins].sort()).toEqual([p2, pb, p3].sort());
    await waitFor('stage 2 rollout completed', async () => ((await call('GET', `/api/rotation-plans/${plan.id}`)).body.rollouts.stage2 === 'COMPLETED' ? true : null), 20_000);
    const done = (await call('POST', `/api/rotation-plans/${plan.id}/complete`)).body;
    expect(done.step).toBe('done');
    expect(done.history.map((h: { action: string }) => h.action)).toEqual(['publish', 'roll-out', 'confirm-gate', 'record-switch', 'publish-next', 'complete']);
    const audit = (await call('GET', '/api/audit?limit=100')).body.items.map((a: { action: string }) => a.action);
    expect(audit).toEqual(expect.arrayContaining(['rotationplan.create', 'rotationplan.confirm-gate.refused', 'rotationplan.record-switch', 'rotationplan.complete', 'admission.denied']));
    expect(readFileSync(join(k2.dir, 'key.pem'), 'utf8')).toBe(k2.keyPem); // the CSR was made from the served key
  }, 90_000);
});
