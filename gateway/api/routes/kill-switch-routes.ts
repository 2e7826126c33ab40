import * as contract from '../../../api-contract/index';
import type { ApiDeps } from '../api-deps';
import { GatewayError } from '../gateway-error';
import { killSwitchBody, killSwitchEnvelopeBody, killSwitchListQuery } from '../lifecycle-schemas';
import type { RouteTable } from '../route-table';
import { fromBase64, idParam } from '../schemas';

/** Emergency kill switch (issue 16 §1, docs/runbook-emergency.md). */
export function killSwitchRoutes(routes: RouteTable, deps: ApiDeps): void {
  const { killSwitch } = deps;

  routes.add(
    {
      method: 'post',
      path: '/api/kill-switch',
      response: contract.lifecycle.killSwitchEngaged,
      role: 'operator',
      summary: 'Stop enforcing a host in a fleet now: signs the kill set, delivers it to every device at once, aborts running rollouts; {fleet, host, mode, reason, confirm = host}',
      body: killSwitchBody,
      status: 201,
    },
    async (c, { body, actor }) => c.json(await killSwitch.engage({ fleet: body.fleet, host: body.host, mode: body.mode, reason: body.reason }, actor), 201),
  );

  routes.add(
    {
      method: 'post',
      path: '/api/kill-switch/envelope',
      response: contract.lifecycle.killSwitchEngaged,
      role: 'operator',
      summary: 'The offline variant: a kill set signed with `pinctl kill` (422 E_NOT_KILL_SET unless it is exactly the kill set of the host)',
      body: killSwitchEnvelopeBody,
      status: 201,
    },
    async (c, { body, actor }) => c.json(await killSwitch.engageSigned({ envelope: fromBase64(body.envelope), host: body.host, reason: body.reason }, actor), 201),
  );

  routes.add(
    { method: 'get', path: '/api/kill-switch', response: contract.lifecycle.killSwitches, role: 'viewer', summary: 'Kill switches engaged, newest first, with live coverage', query: killSwitchListQuery },
    async (c, { query }) => c.json(await killSwitch.list(query.fleet)),
  );

  routes.add({ method: 'get', path: '/api/kill-switch/:id', response: contract.lifecycle.killSwitch, role: 'viewer', summary: 'One kill switch: reason, superseded rollouts, live coverage, re-enabled by' }, async (c) => {
    const id = idParam.safeParse(c.req.param('id'));
    if (!id.success) throw GatewayError.notFound(`kill switch ${c.req.param('id') ?? ''}`);
    return c.json(await killSwitch.view(id.data));
  });
}
