/**
 * The rotation gate pages: readiness for (fleet, host, pin, target), the at-risk list as CSV/JSON, and recording a
 * rotation through the gateway's gate (POST /api/rotations; forced only with a reason and the typed host name).
 * After recording: 303 back to the page (post/redirect/get) with the answer as a flash notice.
 */
import { Hono } from 'hono';
import { ApiError, type ApiClient } from '../api/api-client';
import type { AtRiskDevice } from '../api/api-types';
import { EXPORT_MAX_ROWS, toCsv } from '../components/csv';
import { pinRoles, servedPins } from '../components/pin-role';
import type { DashboardEnv } from '../session/env';
import { formField } from '../session/csrf';
import { RotationPage, rotationUrl, type RotationTarget } from '../pages/rotation-readiness';
import { setFlash, takeFlash } from './flash';
import { orElse, viewFor, type RouteDeps } from './route-deps';

function targetOf(get: (k: string) => string | undefined): RotationTarget | null {
  const fleet = (get('fleet') ?? '').slice(0, 200);
  const host = (get('host') ?? '').slice(0, 253);
  const pin = (get('pin') ?? '').slice(0, 100);
  if (fleet === '' || host === '' || pin === '') return null;
  const t = Number(get('target') ?? '');
  const target = Number.isFinite(t) && t > 0 && t <= 100 ? t : undefined;
  return { fleet, host, pin, cursor: (get('cursor') ?? '').slice(0, 200), ...(target !== undefined ? { target } : {}) };
}

async function allAtRisk(api: ApiClient, t: RotationTarget): Promise<{ devices: AtRiskDevice[]; cut: boolean }> {
  const devices: AtRiskDevice[] = [];
  let cursor: string | undefined;
  do {
    const page = await api.readiness(t.fleet, { host: t.host, pin: t.pin, limit: 1000, ...(t.target !== undefined ? { target: t.target } : {}), ...(cursor !== undefined ? { cursor } : {}) });
    devices.push(...page.devices);
    cursor = page.nextCursor ?? undefined;
  } while (cursor !== undefined && devices.length < EXPORT_MAX_ROWS);
  return { devices, cut: cursor !== undefined };
}

export function rotationRoutes(deps: RouteDeps): Hono<DashboardEnv> {
  const { clock, guard, secure } = deps;
  const app = new Hono<DashboardEnv>();

  app.get('/rotation', guard, async (c) => {
    const t = targetOf((k) => c.req.query(k));
    if (t === null) return c.redirect('/', 303);
    const api = c.get('api');
    const [r, rotations, pinsets, reports] = await Promise.all([
      api.readiness(t.fleet, { host: t.host, pin: t.pin, limit: 50, ...(t.target !== undefined ? { target: t.target } : {}), ...(t.cursor !== '' ? { cursor: t.cursor } : {}) }),
      orElse(api.rotations({ fleet: t.fleet, limit: 50 }), []),
      orElse(api.pinsets(t.fleet), []),
      orElse(api.reports({ fleet: t.fleet, host: t.host, limit: 50 }), []),
    ]);
    const roles = pinRoles(t.host, t.pin, { pinsets, served: servedPins(reports), rotations });
    const flash = takeFlash(c, '/rotation', `${t.fleet}\n${t.host}\n${t.pin}\n${r.ready}`, secure);
    return c.html(
      <RotationPage view={viewFor(c, clock)} t={t} r={r} roles={roles} rotations={rotations} {...(flash !== undefined ? { notice: flash } : {})} />,
    );
  });

  for (const format of ['csv', 'json'] as const) {
    app.get(`/rotation/at-risk.${format}`, guard, async (c) => {
      const t = targetOf((k) => c.req.query(k));
      if (t === null) return c.text('fleet, host and pin are required', 400);
      const { devices, cut } = await allAtRisk(c.get('api'), t);
      const name = `at-risk-${t.fleet}-${t.host}`.replace(/[^A-Za-z0-9._-]/g, '_');
      c.header('content-disposition', `attachment; filename="${name}.${format}"`);
      if (format === 'json') return c.json({ fleet: t.fleet, host: t.host, pin: t.pin, devices, truncated: cut });
      c.header('content-type', 'text/csv; charset=utf-8');
      return c.body(toCsv(['deviceId', 'why', 'online', 'installedSeq'], devices.map((d) => [d.deviceId, d.why, d.online, d.installedSeq])));
    });
  }

  app.post('/rotation/record', deps.origin, guard, async (c) => {
    const form = await c.req.parseBody();
    const t = targetOf((k) => formField(form, k));
    if (t === null) return c.text('fleet, host and pin are required', 400);
    const back = rotationUrl(t);
    const force = formField(form, 'force') === 'true';
    const reason = (formField(form, 'reason') ?? '').trim().slice(0, 500);
    const api = c.get('api');
    const flash = async (kind: 'ok' | 'error', text: string) => {
      const r = await api.readiness(t.fleet, { host: t.host, pin: t.pin, limit: 1, ...(t.target !== undefined ? { target: t.target } : {}) });
      setFlash(c, '/rotation', { kind, text, stateKey: `${t.fleet}\n${t.host}\n${t.pin}\n${r.ready}` }, secure);
      return c.redirect(back, 303);
    };
    // A forced rotation needs the typed host name as well as a reason (the gateway checks the reason again).
    if (force && (formField(form, 'confirm') ?? '').trim().toLowerCase() !== t.host.toLowerCase()) {
      return flash('error', `Not recorded: type the host name "${t.host}" exactly to confirm a forced rotation.`);
    }
    if (force && reason === '') return flash('error', 'Not recorded: a forced rotation needs a written reason.');
    try {
      await api.recordRotation({ fleet: t.fleet, host: t.host, pin: t.pin, ...(t.target !== undefined ? { target: t.target } : {}), ...(force ? { force: true } : {}), ...(reason !== '' ? { reason } : {}) });
    } catch (e) {
      if (!(e instanceof ApiError) || ![400, 403, 409, 422].includes(e.status)) throw e;
      return flash('error', `The gateway refused to record the rotation (${e.code}): ${e.message}`);
    }
    return flash('ok', force ? `Forced rotation of ${t.host} recorded, with your reason, in the audit log.` : `Rotation of ${t.host} recorded.`);
  });

  return app;
}

