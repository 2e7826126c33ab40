import * as contract from '../../../api-contract/index';
import { PLAN_ACTIONS } from '../../guided-rotation/plan-steps';
import type { ApiDeps } from '../api-deps';
import { GatewayError } from '../gateway-error';
import { createPlanBody, planActionBody, plansQuery } from '../lifecycle-schemas';
import type { RouteTable } from '../route-table';
import { idParam } from '../schemas';

/** Guided rotation (issue 16 §4, §5; docs/runbook-planned-rotation.md). */
export function rotationPlanRoutes(routes: RouteTable, deps: ApiDeps): void {
  const { plans } = deps;
  const id = (raw: string | undefined) => {
    const r = idParam.safeParse(raw);
    if (!r.success) throw GatewayError.notFound(`rotation plan ${raw ?? ''}`);
    return r.data;
  };

  routes.add(
    {
      method: 'post',
      path: '/api/rotation-plans',
      response: contract.lifecycle.rotationPlan,
      role: 'operator',
      summary: 'Plan a rotation of host H in a fleet: current, next and backup keys (each a pin, PEM public key, CSR or certificate), target, planned switch time',
      body: createPlanBody,
      status: 201,
    },
    async (c, { body, actor }) => c.json(await plans.create(body, actor), 201),
  );

  routes.add({ method: 'get', path: '/api/rotation-plans', response: contract.lifecycle.rotationPlans, role: 'viewer', summary: 'Rotation plans, newest first, each with its gate and prediction', query: plansQuery }, async (c, { query }) =>
    c.json(await plans.list({ ...(query.fleet === undefined ? {} : { fleet: query.fleet }), ...(query.host === undefined ? {} : { host: query.host }) })),
  );

  routes.add(
    { method: 'get', path: '/api/rotation-plans/:id', response: contract.lifecycle.rotationPlan, role: 'viewer', summary: 'One plan: step, next action, gate now, who fails at the planned switch time, history' },
    async (c) => c.json(await plans.view(id(c.req.param('id')))),
  );

  for (const action of PLAN_ACTIONS) {
    routes.add(
      {
        method: 'post',
        path: `/api/rotation-plans/:id/${action}`,
        response: contract.lifecycle.rotationPlan,
        role: 'operator',
        summary: `Guided rotation step "${action}" (409 E_PLAN_STEP out of order; 422 E_GATE_NOT_MET before the coverage gate)`,
        body: planActionBody,
        optionalBody: true,
      },
      async (c, { body, actor }) => c.json(await plans.act(id(c.req.param('id')), action, body, actor)),
    );
  }
}
