/**
 * Rollout pages and actions. Actions are POST forms (CSRF-checked by the guard) sent to the gateway with the
 * operator's token: the gateway enforces roles and audits refusals too. Abort needs the confirmation page's
 * `confirm=abort` field. After an action, success or refusal: 303 back to the rollout (post/redirect/get), with the
 * answer as a flash notice (routes/flash.ts) so that the browser never stays on the POST address (issue 15).
 */
import { Hono, type Context } from 'hono';
import { ApiError } from '../api/api-client';
import { ROLLOUT_ACTIONS, type RolloutAction } from '../api/api-types';
import { formField } from '../session/csrf';
import type { DashboardEnv } from '../session/env';
import { readForm } from '../session/form-body';
import { ErrorPanel, Layout, type View } from '../pages/layout';
import { AbortConfirmPage, RolloutDetailPage, stateKey } from '../pages/rollout-detail';
import { RolloutDevicesPage } from '../pages/rollout-devices';
import { RolloutsPage } from '../pages/rollouts';
import { setFlash, takeFlash } from './flash';
import { orElse, viewFor, type RouteDeps } from './route-deps';

const DONE: Record<RolloutAction, string> = {
  start: 'Rollout started.',
  pause: 'Rollout paused.',
  resume: 'Rollout resumed.',
  abort: 'Rollout aborted.',
  advance: 'Advanced to the next wave.',
  'retry-failed': 'Failed devices queued again.',
};

const isAction = (a: string): a is RolloutAction => (ROLLOUT_ACTIONS as readonly string[]).includes(a);
const TIMELINE = 30;

export function rolloutRoutes(deps: RouteDeps): Hono<DashboardEnv> {
  const { clock, guard, secure } = deps;
  const app = new Hono<DashboardEnv>();

  app.get('/rollouts', guard, async (c) => {
    const api = c.get('api');
    const fleet = c.req.query('fleet') ?? '';
    const state = c.req.query('state') ?? '';
    const [rollouts, fleets] = await Promise.all([
      api.rollouts({ ...(fleet !== '' ? { fleet } : {}), ...(state !== '' ? { state } : {}) }),
      orElse(api.fleets(), []),
    ]);
    return c.html(
      <RolloutsPage view={viewFor(c, clock)} rollouts={rollouts} filter={{ fleet, state }} fleets={fleets.map((f) => f.fleet)} />,
    );
  });

  app.get('/rollouts/:id', guard, async (c) => {
    const id = c.req.param('id');
    const api = c.get('api');
    const [r, audit] = await Promise.all([api.rollout(id), orElse(api.audit({ target: id, limit: TIMELINE }), null)]);
    const flash = takeFlash(c, detailPath(id), stateKey(r), secure);
    const timeline = audit === null ? undefined : { entries: audit.items, more: audit.nextCursor !== null };
    return c.html(
      <RolloutDetailPage
        view={viewFor(c, clock)}
        r={r}
        {...(flash !== undefined ? { notice: { kind: flash.kind, text: flash.text } } : {})}
        {...(timeline !== undefined ? { timeline } : {})}
      />,
    );
  });

  app.get('/rollouts/:id/devices', guard, async (c) => {
    const id = c.req.param('id');
    const api = c.get('api');
    const state = (c.req.query('state') ?? '').slice(0, 100);
    const waveText = c.req.query('wave') ?? '';
    const wave = /^\d{1,4}$/.test(waveText) ? Number(waveText) : undefined;
    const cursor = (c.req.query('cursor') ?? '').slice(0, 200);
    const [r, page] = await Promise.all([
      api.rollout(id),
      api.executions(id, { ...(state !== '' ? { state } : {}), ...(wave !== undefined ? { wave } : {}), ...(cursor !== '' ? { cursor } : {}), limit: 100 }),
    ]);
    return c.html(<RolloutDevicesPage view={viewFor(c, clock)} r={r} filter={{ state, wave, cursor }} page={page} />);
  });

  app.get('/rollouts/:id/abort', guard, async (c) => {
    const view = viewFor(c, clock);
    if (!view.canOperate) return forbidden(c, view);
    const r = await c.get('api').rollout(c.req.param('id'));
    return c.html(<AbortConfirmPage view={view} r={r} />);
  });

  app.post('/rollouts/:id/:action', deps.origin, guard, async (c) => {
    const id = c.req.param('id');
    const action = c.req.param('action');
    if (!isAction(action)) return c.text('unknown action', 404);
    const form = await readForm(c);
    const detail = detailPath(id);
    if (action === 'abort' && formField(form, 'confirm') !== 'abort') return c.redirect(`${detail}/abort`, 303);
    const reason = (formField(form, 'reason') ?? '').trim().slice(0, 200);
    const api = c.get('api');
    try {
      // Sent whatever the role: the gateway refuses (403) and audits a write the role does not allow.
      const r = await api.rolloutAction(id, action, reason === '' ? undefined : reason);
      setFlash(c, detail, { kind: 'ok', text: DONE[action], stateKey: stateKey(r) }, secure);
    } catch (e) {
      if (!(e instanceof ApiError) || ![400, 403, 409, 422].includes(e.status)) throw e;
      const r = await api.rollout(id);
      const text = e.status === 403 ? `Not allowed for your role: ${e.message}` : `The gateway refused to ${action}: ${e.message}`;
      setFlash(c, detail, { kind: 'error', text, stateKey: stateKey(r) }, secure);
    }
    return c.redirect(detail, 303);
  });

  return app;
}

const detailPath = (id: string) => `/rollouts/${encodeURIComponent(id)}`;

function forbidden(c: Context<DashboardEnv>, view: View) {
  return c.html(
    <Layout title="Not allowed" section="rollouts" view={view} live={false}>
      <ErrorPanel
        title="Not allowed"
        status={403}
        message={`Your role (${view.identity.role}) may look at rollouts but not change them. Ask an operator.`}
      />
    </Layout>,
    403,
  );
}
