/**
 * Rollout pages and actions. Actions are POST forms (CSRF-checked by the guard); the dashboard refuses them
 * itself for roles below operator (403) before asking the gateway, which enforces roles too. Abort needs the
 * confirmation page's `confirm=abort` field. After an action: 303 back to the rollout (post/redirect/get).
 */
import { Hono, type Context } from 'hono';
import { ApiError } from '../api/api-client';
import { ROLLOUT_ACTIONS, type RolloutAction } from '../api/api-types';
import { formField } from '../session/csrf';
import type { DashboardEnv } from '../session/env';
import { readForm } from '../session/form-body';
import { ErrorPanel, Layout, type View } from '../pages/layout';
import { AbortConfirmPage, RolloutDetailPage } from '../pages/rollout-detail';
import { RolloutsPage } from '../pages/rollouts';
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

export function rolloutRoutes(deps: RouteDeps): Hono<DashboardEnv> {
  const { clock, guard } = deps;
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
    const r = await c.get('api').rollout(c.req.param('id'));
    const done = c.req.query('done') ?? '';
    const notice = isAction(done) ? DONE[done] : undefined;
    return c.html(<RolloutDetailPage view={viewFor(c, clock)} r={r} {...(notice !== undefined ? { notice } : {})} />);
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
    const view = viewFor(c, clock);
    if (!isAction(action)) return c.text('unknown action', 404);
    if (!view.canOperate) return forbidden(c, view);
    const form = await readForm(c);
    const detail = `/rollouts/${encodeURIComponent(id)}`;
    if (action === 'abort' && formField(form, 'confirm') !== 'abort') return c.redirect(`${detail}/abort`, 303);
    const reason = (formField(form, 'reason') ?? '').trim().slice(0, 200);
    const api = c.get('api');
    try {
      await api.rolloutAction(id, action, reason === '' ? undefined : reason);
    } catch (e) {
      if (e instanceof ApiError && (e.status === 409 || e.status === 422 || e.status === 400)) {
        const r = await api.rollout(id);
        return c.html(<RolloutDetailPage view={view} r={r} notice={`The gateway refused to ${action}: ${e.message}`} />, 409);
      }
      throw e;
    }
    return c.redirect(`${detail}?done=${action}`, 303);
  });

  return app;
}

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
