/**
 * Issue 15 "one typed API contract": every route of the REAL gateway answers what gateway/api-contract says (parsed
 * with the same zod schemas the dashboard uses), and /api/openapi.json describes every answer (no empty schema).
 */
import type { z } from 'zod';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import * as contract from '../../api-contract/index';
import { startRealGateway, type RealGateway } from '../dashboard/real-harness';
import type { MqttDevice } from '../dashboard/mqtt-device';
import { HOST, PIN_A, PIN_B, PIN_C } from '../dashboard/scenario';

let real: RealGateway;
let operator = '';
const ds: MqttDevice[] = [];

/** Calls the API and parses the answer with the contract; a mismatch fails with zod's own path and message. */
async function conforms(schema: z.ZodType, method: string, path: string, body?: unknown, status = 200) {
  const res = await real.call(method, path, real.admin, body);
  expect(res.status, `${method} ${path}: ${JSON.stringify(res.body)}`).toBe(status);
  const parsed = schema.safeParse(res.body);
  expect(parsed.success ? 'ok' : JSON.stringify(parsed.error.issues.slice(0, 3)), `${method} ${path}`).toBe('ok');
  return res.body;
}

beforeAll(async () => {
  real = await startRealGateway();
  operator = await real.token('olivia', 'operator');
  for (let i = 0; i < 3; i++) ds.push(await real.device(operator, `c-${i}`, 'contract', '1.0'));
  ds[0]?.report(HOST, [PIN_A]);
});

afterAll(async () => {
  await real?.stop();
});

describe('the API answers what its contract says (real gateway)', () => {
  it('every route, parsed with gateway/api-contract', async () => {
    const { common, devices, pinsets, rollouts } = contract;
    await conforms(common.createdToken, 'POST', '/api/tokens', { name: 'vic', role: 'viewer' }, 201);
    await conforms(common.enrolled, 'POST', '/api/devices', { deviceId: 'c-late', fleet: 'contract', deviceClass: 'x' }, 201);
    const p1 = await conforms(pinsets.published, 'POST', '/api/pinsets', { target: { fleet: 'contract' }, hosts: [{ name: HOST, includeSubdomains: false, pins: [PIN_A, PIN_B], enforce: true }] }, 201);
    await conforms(pinsets.delivered, 'POST', `/api/pinsets/${p1.id}/deliver`, {});
    await vi.waitFor(() => expect(ds.every((d) => d.verified.includes(1))).toBe(true), { timeout: 10_000 });
    await conforms(pinsets.pinsets, 'GET', '/api/pinsets');
    await conforms(pinsets.pinsetWithEnvelope, 'GET', `/api/pinsets/${p1.id}`);
    const p2 = await conforms(pinsets.published, 'POST', '/api/pinsets', { target: { fleet: 'contract' }, hosts: [{ name: HOST, includeSubdomains: false, pins: [PIN_B, PIN_C], enforce: true }] }, 201);
    const r = await conforms(rollouts.rollout, 'POST', '/api/rollouts', { pinsetId: p2.id, plan: { waves: [{ limit: { count: 1 } }, { limit: { percent: 100 } }] }, gates: { soakMs: 0 } }, 201);
    await conforms(rollouts.rollout, 'POST', `/api/rollouts/${r.id}/start`, {});
    await conforms(rollouts.rollout, 'POST', `/api/rollouts/${r.id}/pause`, { reason: 'contract' });
    await vi.waitFor(async () => conforms(rollouts.rollout, 'GET', `/api/rollouts/${r.id}`));
    await conforms(rollouts.rollouts, 'GET', '/api/rollouts');
    await conforms(rollouts.executionPage, 'GET', `/api/rollouts/${r.id}/executions`);
    await conforms(devices.devicePage, 'GET', '/api/devices?fleet=contract');
    await conforms(devices.devicePage, 'GET', `/api/devices?rollout=${r.id}&sort=lastSeen&order=desc`);
    await conforms(devices.deviceDetail, 'GET', '/api/devices/c-0');
    await conforms(common.fleets, 'GET', '/api/fleets');
    await conforms(common.coverage, 'GET', '/api/fleets/contract/coverage');
    await conforms(common.readiness, 'GET', `/api/fleets/contract/rotation-readiness?host=${HOST}&pin=${encodeURIComponent(PIN_B)}`);
    await conforms(common.rotationRecorded, 'POST', '/api/rotations', { fleet: 'contract', host: HOST, pin: PIN_C, force: true, reason: 'contract test' }, 201);
    await conforms(common.rotations, 'GET', '/api/rotations');
    await vi.waitFor(async () => expect((await conforms(common.telemetry, 'GET', '/api/telemetry?bucketSeconds=60')).length).toBeGreaterThan(0));
    await vi.waitFor(async () => expect((await conforms(common.reports, 'GET', '/api/reports')).length).toBeGreaterThan(0));
    await conforms(common.auditPage, 'GET', '/api/audit');
    await conforms(common.auditPage, 'GET', '/api/audit?action=rollout.');
    await conforms(common.keysets, 'GET', '/api/keysets');
    await conforms(common.whoami, 'GET', '/api/whoami');
    const refused = await real.call('POST', `/api/rollouts/${r.id}/start`, real.admin, {});
    expect(common.apiError.safeParse(refused.body).success).toBe(true);
  });

  it('lifecycle, operations and identity routes, parsed with gateway/api-contract', async () => {
    const { common, lifecycle, operations } = contract;
    // a fleet of its own: the kill switch aborts the fleet's running rollouts
    const k = await real.device(operator, 'k-0', 'contract-kill', '1.0');
    const pk = await conforms(contract.pinsets.published, 'POST', '/api/pinsets', { target: { fleet: 'contract-kill' }, hosts: [{ name: HOST, includeSubdomains: false, pins: [PIN_A, PIN_B], enforce: true }] }, 201);
    await conforms(contract.pinsets.delivered, 'POST', `/api/pinsets/${pk.id}/deliver`, {});
    await vi.waitFor(() => expect(k.verified.includes(pk.seq)).toBe(true), { timeout: 10_000 });
    const kill = await conforms(lifecycle.killSwitchEngaged, 'POST', '/api/kill-switch', { fleet: 'contract-kill', host: HOST, mode: 'fail-open', reason: 'contract test', confirm: HOST }, 201);
    await conforms(lifecycle.killSwitches, 'GET', '/api/kill-switch');
    await conforms(lifecycle.killSwitch, 'GET', `/api/kill-switch/${kill.id}`);

    await conforms(lifecycle.driftRun, 'POST', '/api/drift-watch/run', {});
    await conforms(lifecycle.driftWatch, 'GET', '/api/drift-watch');
    await conforms(lifecycle.findings, 'GET', '/api/findings');
    await conforms(lifecycle.ctRun, 'POST', '/api/ct-watch/run', {});
    await conforms(lifecycle.ctWatch, 'GET', '/api/ct-watch');
    await conforms(lifecycle.loggedCertificates, 'GET', '/api/ct-watch/certificates');
    await ds[1]?.report(HOST, [PIN_C], 'mismatch');
    await vi.waitFor(async () => expect((await conforms(lifecycle.mismatches, 'GET', '/api/ct-watch/mismatches')).length).toBeGreaterThan(0));

    const plan = await conforms(lifecycle.rotationPlan, 'POST', '/api/rotation-plans', { fleet: 'contract', host: 'plan.example.com', current: PIN_A, next: PIN_B, backup: PIN_C, switchAt: 2_000_000_000 }, 201);
    await conforms(lifecycle.rotationPlans, 'GET', '/api/rotation-plans');
    await conforms(lifecycle.rotationPlan, 'GET', `/api/rotation-plans/${plan.id}`);
    await conforms(lifecycle.rotationPlan, 'POST', `/api/rotation-plans/${plan.id}/publish`, {});
    await conforms(lifecycle.admissionDecision, 'POST', '/api/admission/check', { host: HOST, key: PIN_C });
    const review = { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request: { uid: 'u-1', operation: 'DELETE' } };
    await conforms(lifecycle.admissionReview, 'POST', '/api/admission/review', review);

    await conforms(operations.decommissioned, 'POST', '/api/devices/c-late/decommission', { reason: 'contract test' });
    await conforms(operations.decommissioned, 'POST', '/api/devices/c-late/recommission', {});
    const hook = await conforms(operations.webhookCreated, 'POST', '/api/webhooks', { url: 'http://127.0.0.1:9/hook', events: ['rollout.paused'] }, 201);
    await conforms(operations.webhooks, 'GET', '/api/webhooks');
    await conforms(operations.queued, 'POST', `/api/webhooks/${hook.id}/ping`, {}, 202);
    await conforms(operations.deadLetters, 'GET', '/api/webhooks/dead-letters');
    await conforms(operations.deleted, 'DELETE', `/api/webhooks/${hook.id}`);
    await conforms(operations.security, 'GET', '/api/security');

    await conforms(common.tokens, 'GET', '/api/tokens');
    await conforms(common.revokedToken, 'POST', '/api/tokens/vic/revoke', {});
  });

  it('the OpenAPI document describes every answer', async () => {
    const doc = (await real.call('GET', '/api/openapi.json', real.admin)).body as { paths: Record<string, Record<string, { responses: Record<string, { content: Record<string, { schema: Record<string, unknown> }> }> }>> };
    const empty: string[] = [];
    for (const [path, methods] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(methods)) {
        const ok = Object.entries(op.responses).find(([code]) => code !== 'default')?.[1];
        const schema = Object.values(ok?.content ?? {})[0]?.schema ?? {};
        if (Object.keys(schema).length === 0) empty.push(`${method} ${path}`);
      }
    }
    expect(empty).toEqual([]);
    expect(Object.keys(doc.paths).length).toBeGreaterThan(20);
  });
});
