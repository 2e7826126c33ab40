import * as contract from '../../../api-contract/index';
import { newWebhookSecret } from '../../webhooks/webhook-signature';
import type { ApiDeps } from '../api-deps';
import { GatewayError } from '../gateway-error';
import type { ApiContext, RouteTable } from '../route-table';
import { createWebhookBody, deadLettersQuery, webhookIdParam } from '../webhook-schemas';

function idOf(c: ApiContext, what: string): number {
  const r = webhookIdParam.safeParse(c.req.param('id'));
  if (!r.success) throw GatewayError.notFound(what);
  return r.data;
}

/** Webhooks out: registration (admin: the gateway will call these URLs), dead letters (operator). */
export function webhookRoutes(routes: RouteTable, deps: ApiDeps): void {
  const { webhooks, audit, clock } = deps;

  routes.add(
    {
      method: 'post',
      path: '/api/webhooks',
      response: contract.operations.webhookCreated,
      role: 'admin',
      summary: 'Register a URL for events {url, events[], rotations?, description?}; the signing secret is shown once',
      body: createWebhookBody,
      status: 201,
    },
    async (c, { body, actor }) => {
      const row = await webhooks.store.insert({ ...body, secret: newWebhookSecret(), createdAt: clock.now(), createdBy: actor });
      await webhooks.dispatcher.reload();
      await webhooks.rotations.baseline(row.id);
      await audit.append(actor, 'webhook.create', String(row.id), { url: row.url, events: row.events });
      const { secret, ...shown } = row;
      return c.json({ ...shown, secret }, 201);
    },
  );

  routes.add({ method: 'get', path: '/api/webhooks', response: contract.operations.webhooks, role: 'operator', summary: 'Registered webhooks (without their secrets)' }, async (c) =>
    // from the registry: the same list on every replica, whichever one registered them
    c.json((await webhooks.store.list()).map(({ secret: _s, ...w }) => w)),
  );

  routes.add({ method: 'delete', path: '/api/webhooks/:id', response: contract.operations.deleted, role: 'admin', summary: 'Remove a webhook (its dead letters stay)' }, async (c, { actor }) => {
    const id = idOf(c, 'webhook');
    if (!(await webhooks.store.delete(id))) throw GatewayError.notFound(`webhook ${id}`);
    await webhooks.dispatcher.reload();
    await audit.append(actor, 'webhook.delete', String(id));
    return c.json({ id, deleted: true });
  });

  routes.add(
    { method: 'post', path: '/api/webhooks/:id/ping', response: contract.operations.queued, role: 'operator', summary: 'Send a signed "ping" event to one webhook', status: 202 },
    async (c, { actor }) => {
      const id = idOf(c, 'webhook');
      // registered through another replica in the last few seconds: read the registrations again before a 404
      if (!webhooks.dispatcher.registrations().some((w) => w.id === id)) await webhooks.dispatcher.reload();
      const hook = webhooks.dispatcher.registrations().find((w) => w.id === id);
      if (hook === undefined) throw GatewayError.notFound(`webhook ${id}`);
      // ping goes to this webhook whether or not it subscribed to anything else
      const queued = webhooks.dispatcher.publish('ping', { webhookId: id, by: actor }, new Set([id]), true);
      return c.json({ queued }, 202);
    },
  );

  routes.add(
    { method: 'get', path: '/api/webhooks/dead-letters', response: contract.operations.deadLetters, role: 'operator', summary: 'Deliveries that failed every retry, newest first', query: deadLettersQuery },
    async (c, { query }) =>
      c.json(
        (await webhooks.store.deadLetters(query.limit)).map(({ payload, ...d }) => ({ ...d, failedAt: d.failedAt, payload: JSON.parse(payload) as unknown })),
      ),
  );

  routes.add(
    { method: 'post', path: '/api/webhooks/dead-letters/:id/redeliver', response: contract.operations.queued, role: 'operator', summary: 'Send a dead letter again (same delivery id)', status: 202 },
    async (c, { actor }) => {
      const id = idOf(c, 'dead letter');
      const d = await webhooks.store.deadLetter(id);
      if (d === undefined) throw GatewayError.notFound(`dead letter ${id}`);
      const hook = await webhooks.store.get(d.webhookId);
      if (hook === undefined) throw new GatewayError('E_CONFLICT', `webhook ${d.webhookId} was removed: nothing to sign this delivery with`);
      await webhooks.store.deleteDeadLetter(id);
      await webhooks.dispatcher.redeliver(d); // signed with the webhook's secret and sent to its URL at each attempt
      await audit.append(actor, 'webhook.redeliver', String(d.webhookId), { deadLetter: id, deliveryId: d.deliveryId });
      return c.json({ queued: 1, deliveryId: d.deliveryId }, 202);
    },
  );

  routes.add({ method: 'delete', path: '/api/webhooks/dead-letters/:id', response: contract.operations.deleted, role: 'operator', summary: 'Drop a dead letter' }, async (c, { actor }) => {
    const id = idOf(c, 'dead letter');
    if (!(await webhooks.store.deleteDeadLetter(id))) throw GatewayError.notFound(`dead letter ${id}`);
    await audit.append(actor, 'webhook.dead-letter.delete', String(id));
    return c.json({ id, deleted: true });
  });
}
