/**
 * The pin lifecycle page (issue 16) and its actions: kill switch (typed confirmation: the host typed again, also
 * checked by the gateway), running the watches, the next step of a guided rotation. POST forms are CSRF-checked
 * by the guard; after an action: 303 back to the page (post/redirect/get), or the page again with the gateway's
 * refusal and the form as typed.
 */
import { Hono, type Context } from 'hono';
import { ApiError } from '../api/api-client';
import { LifecycleClient } from '../api/lifecycle-client';
import { formField } from '../session/csrf';
import type { DashboardEnv } from '../session/env';
import { LifecyclePage, type LifecycleData } from '../pages/lifecycle';
import { orElse, viewFor, type RouteDeps } from './route-deps';

const NOTICES: Record<string, string> = {
  kill: 'Kill switch engaged: the set is on its way to every device. Watch its coverage below.',
  'drift-watch': 'Drift watch ran.',
  'ct-watch': 'CT watch ran.',
  plan: 'Rotation step done.',
  acknowledged: 'Finding acknowledged: it stays open until the watch no longer sees it.',
};

async function load(c: Context<DashboardEnv>): Promise<LifecycleData> {
  const api = c.get('api');
  const lc = new LifecycleClient(api);
  const [kills, findings, plans, mismatches, fleets] = await Promise.all([
    orElse(lc.killSwitches(), []),
    orElse(lc.findings(), { open: [], resolved: [] }),
    orElse(lc.plans(), []),
    orElse(lc.mismatches(), []),
    orElse(api.fleets(), []),
  ]);
  return { kills, findings, plans, mismatches, fleets: fleets.map((f) => f.fleet) };
}

export function lifecycleRoutes(deps: RouteDeps): Hono<DashboardEnv> {
  const { clock, guard } = deps;
  const app = new Hono<DashboardEnv>();
  const refused = async (c: Context<DashboardEnv>, e: unknown, form?: Record<string, string>) => {
    if (!(e instanceof ApiError) || e.status >= 500 || e.status === 401) throw e;
    const data = await load(c);
    return c.html(<LifecyclePage view={viewFor(c, clock)} data={data} error={`The gateway refused: ${e.message}`} {...(form ? { form } : {})} />, e.status === 403 ? 403 : 409);
  };

  app.get('/lifecycle', guard, async (c) => {
    const done = c.req.query('done') ?? '';
    const notice = NOTICES[done];
    return c.html(<LifecyclePage view={viewFor(c, clock)} data={await load(c)} {...(notice !== undefined ? { notice } : {})} />);
  });

  app.post('/lifecycle/kill-switch', deps.origin, guard, async (c) => {
    const body = await c.req.parseBody();
    const form = Object.fromEntries(['fleet', 'host', 'mode', 'reason', 'confirm'].map((k) => [k, (formField(body, k) ?? '').trim()]));
    try {
      await new LifecycleClient(c.get('api')).engageKillSwitch({
        fleet: form['fleet'] ?? '', host: form['host'] ?? '', mode: form['mode'] === 'unpin' ? 'unpin' : 'fail-open', reason: form['reason'] ?? '', confirm: form['confirm'] ?? '',
      });
    } catch (e) {
      return refused(c, e, { ...form, confirm: '' });
    }
    return c.redirect('/lifecycle?done=kill', 303);
  });

  app.post('/lifecycle/run/:which', deps.origin, guard, async (c) => {
    const which = c.req.param('which');
    if (which !== 'drift-watch' && which !== 'ct-watch') return c.text('unknown watch', 404);
    try {
      await new LifecycleClient(c.get('api')).runWatch(which);
    } catch (e) {
      return refused(c, e);
    }
    return c.redirect(`/lifecycle?done=${which}`, 303);
  });

  app.post('/lifecycle/findings/acknowledge', deps.origin, guard, async (c) => {
    const key = (formField(await c.req.parseBody(), 'key') ?? '').trim();
    try {
      await new LifecycleClient(c.get('api')).acknowledgeFinding(key);
    } catch (e) {
      return refused(c, e);
    }
    return c.redirect('/lifecycle?done=acknowledged', 303);
  });

  app.post('/lifecycle/plans/:id/:action', deps.origin, guard, async (c) => {
    const id = Number(c.req.param('id'));
    if (!Number.isSafeInteger(id) || id <= 0) return c.text('unknown plan', 404);
    const body = await c.req.parseBody();
    const newNext = (formField(body, 'newNext') ?? '').trim();
    try {
      await new LifecycleClient(c.get('api')).planAction(id, c.req.param('action'), newNext === '' ? {} : { newNext });
    } catch (e) {
      return refused(c, e);
    }
    return c.redirect('/lifecycle?done=plan', 303);
  });

  return app;
}
