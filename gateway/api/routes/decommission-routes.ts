import * as contract from '../../../api-contract/index';
import type { ApiDeps } from '../api-deps';
import type { RouteTable } from '../route-table';
import { decommissionBody, recommissionBody } from '../schemas';

export function decommissionRoutes(routes: RouteTable, deps: ApiDeps): void {
  routes.add(
    {
      method: 'post',
      path: '/api/devices/:id/decommission',
      response: contract.operations.decommissioned,
      role: 'operator',
      summary: 'Retire a device: leaves coverage, credential refused, session closed, executions end DECOMMISSIONED; {reason}',
      body: decommissionBody,
    },
    async (c, { body, actor }) => c.json(await deps.decommission.decommission(c.req.param('id') ?? '', body.reason, actor)),
  );
  routes.add(
    {
      method: 'post',
      path: '/api/devices/:id/recommission',
      response: contract.operations.decommissioned,
      role: 'operator',
      summary: 'Undo a decommission: the same credential works again and the device counts again; {reason?}',
      body: recommissionBody,
      optionalBody: true,
    },
    async (c, { body, actor }) => c.json(await deps.decommission.recommission(c.req.param('id') ?? '', body.reason ?? '', actor)),
  );
}
