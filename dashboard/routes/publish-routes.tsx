/**
 * Publishing from the dashboard (issue 15): the pin-set list and its two publishing forms, and the new-rollout
 * form. A refused form is shown again with what was typed and the gateway's own message (status 400/422); a
 * success redirects (post/redirect/get) to the new item with a flash notice.
 */
import { Hono, type Context } from 'hono';
import { ApiError } from '../api/api-client';
import { formField } from '../session/csrf';
import type { DashboardEnv } from '../session/env';
import { PinSetsPage, type PublishForm } from '../pages/pinsets';
import { NewRolloutPage, rolloutBody, type RolloutForm } from '../pages/rollout-new';
import { stateKey } from '../pages/rollout-detail';
import { setFlash, takeFlash } from './flash';
import { orElse, viewFor, type RouteDeps } from './route-deps';

/** SPEC §3: an envelope is at most 16,384 bytes; anything larger is refused before the gateway sees it. */
const MAX_ENVELOPE = 16_384;
type Ctx = Context<DashboardEnv>;
const refusal = (e: unknown) => e instanceof ApiError && [400, 403, 409, 422].includes(e.status);
const status = (e: ApiError) => (e.status === 403 ? 403 : e.status === 422 ? 422 : 400);
const message = (e: ApiError) => `The gateway refused it (${e.code}): ${e.message}`;

export function publishRoutes(deps: RouteDeps): Hono<DashboardEnv> {
  const { clock, guard, secure } = deps;
  const app = new Hono<DashboardEnv>();

  const pinsetsPage = async (c: Ctx, form: PublishForm, code: 200 | 400 | 403 | 422 = 200) => {
    const api = c.get('api');
    const fleet = (c.req.query('fleet') ?? '').slice(0, 200);
    const [pinsets, fleets] = await Promise.all([api.pinsets(fleet === '' ? undefined : fleet), orElse(api.fleets(), [])]);
    const flash = c.req.method === 'GET' ? takeFlash(c, '/pinsets', 'pinsets', secure, true) : undefined;
    return c.html(
      <PinSetsPage view={viewFor(c, clock)} pinsets={pinsets} fleets={fleets.map((f) => f.fleet)} fleet={fleet} form={form} {...(flash !== undefined ? { notice: flash.text } : {})} />,
      code,
    );
  };

  app.get('/pinsets', guard, (c) => pinsetsPage(c, { json: '' }));

  app.post('/pinsets', deps.origin, guard, async (c) => {
    const json = (formField(await c.req.parseBody(), 'json') ?? '').slice(0, 200_000);
    let body: unknown;
    try {
      body = JSON.parse(json);
    } catch (e) {
      return pinsetsPage(c, { json, errorFor: 'json', error: `Not JSON: ${(e as Error).message}` }, 400);
    }
    try {
      const p = await c.get('api').publishPinSet('json', body);
      return published(c, p.fleet, p.seq);
    } catch (e) {
      if (!refusal(e)) throw e;
      return pinsetsPage(c, { json, errorFor: 'json', error: message(e as ApiError) }, status(e as ApiError));
    }
  });

  app.post('/pinsets/envelope', deps.origin, guard, async (c) => {
    const file = (await c.req.parseBody())['envelope'];
    if (!(file instanceof File) || file.size === 0) return pinsetsPage(c, { json: '', errorFor: 'envelope', error: 'Choose the envelope file to upload.' }, 400);
    if (file.size > MAX_ENVELOPE) {
      return pinsetsPage(c, { json: '', errorFor: 'envelope', error: `E_SIZE: the file has ${file.size} bytes; an envelope is at most ${MAX_ENVELOPE} (SPEC §3).` }, 400);
    }
    const envelope = Buffer.from(await file.arrayBuffer()).toString('base64');
    try {
      const p = await c.get('api').publishPinSet('envelope', { envelope });
      return published(c, p.fleet, p.seq);
    } catch (e) {
      if (!refusal(e)) throw e;
      return pinsetsPage(c, { json: '', errorFor: 'envelope', error: message(e as ApiError) }, status(e as ApiError));
    }
  });

  function published(c: Ctx, fleet: string, seq: number | null) {
    setFlash(c, '/pinsets', { kind: 'ok', text: `Pin set seq ${seq ?? '?'} published for ${fleet}.`, stateKey: 'pinsets' }, secure);
    return c.redirect(`/pinsets?fleet=${encodeURIComponent(fleet)}`, 303);
  }

  app.get('/rollouts/new', guard, async (c) => {
    const pinsets = await c.get('api').pinsets();
    const f: RolloutForm = { pinsetId: (c.req.query('pinsetId') ?? '').slice(0, 20) };
    return c.html(<NewRolloutPage view={viewFor(c, clock)} pinsets={pinsets} f={f} />);
  });

  app.post('/rollouts/new', deps.origin, guard, async (c) => {
    const form = await c.req.parseBody();
    const f: Record<string, string> = {};
    for (const [k, v] of Object.entries(form)) if (typeof v === 'string' && k !== '_csrf') f[k] = v.slice(0, 200);
    const api = c.get('api');
    try {
      const r = await api.createRollout(rolloutBody(f));
      const detail = `/rollouts/${encodeURIComponent(r.id)}`;
      setFlash(c, detail, { kind: 'ok', text: `Rollout ${r.id} created as a draft: check its waves and gates, then start it.`, stateKey: stateKey(r) }, secure);
      return c.redirect(detail, 303);
    } catch (e) {
      if (!refusal(e)) throw e;
      const pinsets = await orElse(api.pinsets(), []);
      return c.html(<NewRolloutPage view={viewFor(c, clock)} pinsets={pinsets} f={f} error={message(e as ApiError)} />, status(e as ApiError));
    }
  });

  return app;
}
