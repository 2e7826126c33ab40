import * as contract from '../../../api-contract/index';
import type { OperatorCommand } from '../../rollout-engine/index';
import { createRolloutFor } from '../../rollout-driver/rollout-factory';
import { rolloutView } from '../../rollout-driver/rollout-view';
import type { ApiDeps } from '../api-deps';
import { GatewayError } from '../gateway-error';
import type { RouteTable } from '../route-table';
import type { RolloutRow } from '../../registry/repositories';
import { BULK_BODY_BYTES, createRolloutBody, executionsQuery, listRolloutsQuery, rolloutActionBody } from '../schemas';

const ACTIONS = ['start', 'pause', 'resume', 'abort', 'advance', 'retry-failed'] as const;

const SUMMARIES: Record<(typeof ACTIONS)[number], string> = {
  start: 'Start a DRAFT rollout (supersedes older rollouts of the fleet); 409 E_SEQ if a newer seq already runs',
  pause: 'Pause a RUNNING rollout (reason recorded)',
  resume: 'Resume a PAUSED rollout (an approval pause: approve the next wave)',
  abort: 'Abort a rollout that is not finished',
  advance: 'Start the next wave now (RUNNING), approve it (approval pause) or accept a failed wave (wave-failed pause)',
  'retry-failed': 'Re-queue REJECTED and TIMED_OUT devices with a fresh attempt budget',
};

export function rolloutRoutes(routes: RouteTable, deps: ApiDeps): void {
  const { rollouts, driver, clock } = deps;
  const withContext = async (row: RolloutRow) =>
    rolloutView(row, await rollouts.summary(row.id), { targetDevices: await driver.targetSize(row.fleet, row.snapshot.target), now: clock.now() });
  const view = async (id: string) => {
    const row = await rollouts.get(id);
    if (row === undefined) throw GatewayError.notFound(`rollout "${id}"`);
    return withContext(row);
  };

  routes.add(
    {
      method: 'post',
      path: '/api/rollouts', response: contract.rollouts.rollout,
      role: 'operator',
      summary: 'Create a DRAFT rollout of a pin set: {pinsetId, plan?, gates?, manualApproval?, delivery?, rate?}',
      body: createRolloutBody,
      maxBodyBytes: BULK_BODY_BYTES,
      status: 201,
    },
    async (c, { body, actor }) => {
      const row = await createRolloutFor(deps, body, deps.rolloutDefaults, actor);
      return c.json(await view(row.id), 201);
    },
  );

  routes.add({ method: 'get', path: '/api/rollouts', response: contract.rollouts.rollouts, role: 'viewer', summary: 'Rollouts, newest first', query: listRolloutsQuery }, async (c, { query }) => {
    const filter = { ...(query.fleet === undefined ? {} : { fleet: query.fleet }), ...(query.state === undefined ? {} : { state: query.state }) };
    return c.json(await Promise.all((await rollouts.list(filter)).map(withContext)));
  });

  routes.add(
    { method: 'get', path: '/api/rollouts/:id', response: contract.rollouts.rollout, role: 'viewer', summary: 'One rollout: state, waves with execution counts, last gate decision' },
    async (c) => c.json(await view(c.req.param('id') ?? '')),
  );

  routes.add(
    {
      method: 'get',
      path: '/api/rollouts/:id/executions', response: contract.rollouts.executionPage,
      role: 'viewer',
      summary: 'The devices of a rollout with their execution state, filtered by state and wave ("why isn\'t it moving"), paged by device id',
      query: executionsQuery,
    },
    async (c, { query }) => {
      const id = c.req.param('id') ?? '';
      if ((await rollouts.get(id)) === undefined) throw GatewayError.notFound(`rollout "${id}"`);
      const states = query.state === undefined ? null : new Set(query.state.split(','));
      const rows = (await rollouts.executions(id))
        .filter((e) => (states === null || states.has(e.state.kind)) && (query.wave === undefined || e.wave === query.wave))
        .filter((e) => query.cursor === undefined || e.deviceId > query.cursor)
        .sort((a, b) => (a.deviceId < b.deviceId ? -1 : a.deviceId > b.deviceId ? 1 : 0));
      const page = rows.slice(0, query.limit);
      return c.json({
        items: page.map((e) => ({ deviceId: e.deviceId, wave: e.wave, enrolledAt: e.enrolledAt, ...e.state })),
        nextCursor: rows.length > query.limit ? (page[page.length - 1]?.deviceId ?? null) : null,
      });
    },
  );

  for (const action of ACTIONS) {
    routes.add(
      {
        method: 'post',
        path: `/api/rollouts/:id/${action}`,
        response: contract.rollouts.rollout,
        role: 'operator',
        summary: `${SUMMARIES[action]}; illegal in the current state → 409 E_TRANSITION`,
        body: rolloutActionBody,
        optionalBody: true,
      },
      async (c, { body, actor }) => {
        const id = c.req.param('id') ?? '';
        const reason = body.reason ?? '';
        const command: OperatorCommand =
          action === 'pause' ? { type: 'pause', reason } : action === 'abort' ? { type: 'abort', reason } : { type: action };
        await driver.command(id, command, actor, reason === '' ? undefined : reason);
        return c.json(await view(id));
      },
    );
  }
}
