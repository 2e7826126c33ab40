import * as contract from '../../../api-contract/index';
import type { DeviceFilter } from '../../registry/rows';
import { newDeviceCredential } from '../../auth/device-credentials';
import type { ApiDeps } from '../api-deps';
import { scanDevices } from '../device-query';
import { deviceView } from '../device-view';
import { GatewayError } from '../gateway-error';
import type { RouteTable } from '../route-table';
import { enrolDeviceBody, listDevicesQuery } from '../schemas';

const NO_LOGIN_TROUBLE = { authFailures: 0, throttled: 0, lastFailureAt: null, lastFailureFrom: null, takeovers: 0, lastTakeoverAt: null, lastTakeoverFrom: null };

export function deviceRoutes(routes: RouteTable, deps: ApiDeps): void {
  const { devices, audit, clock } = deps;

  routes.add(
    { method: 'post', path: '/api/devices', response: contract.common.enrolled, role: 'operator', summary: 'Enrol a device (its credential is shown once)', body: enrolDeviceBody, status: 201 },
    async (c, { body, actor }) => {
      const credential = newDeviceCredential();
      const credentialHash = await deps.credentials.hash(credential);
      const at = clock.now();
      // the coverage counters count the new device (fleet size, 'never said hello') in the same transaction
      const inserted = await deps.registry.transaction(async (tx) => {
        const isNew = await tx.devices.insert({ id: body.deviceId, fleet: body.fleet, deviceClass: body.deviceClass, labels: body.labels, credentialHash, createdAt: at });
        if (isNew) await tx.coverage.reconcile(body.deviceId);
        return isNew;
      });
      if (!inserted) throw new GatewayError('E_CONFLICT', `device "${body.deviceId}" is already enrolled`);
      await audit.append(actor, 'device.enrol', body.deviceId, { fleet: body.fleet, deviceClass: body.deviceClass });
      deps.credentials.provisioned(body.deviceId); // the broker accepts it within seconds (docs/scale.md)
      deps.events.emit('enrolled', { deviceId: body.deviceId, fleet: body.fleet, deviceClass: body.deviceClass, labels: body.labels, at });
      return c.json({ deviceId: body.deviceId, fleet: body.fleet, deviceClass: body.deviceClass, credential }, 201);
    },
  );

  routes.add(
    { method: 'get', path: '/api/devices', response: contract.devices.devicePage, role: 'viewer', summary: 'List devices with filters and cursor paging; rollout+execState, atRiskHost+atRiskPin, sort, order, offset, withTotal answer from a scan with total and offsets', query: listDevicesQuery },
    async (c, { query }) => {
      const { limit, cursor, rollout, execState, atRiskHost, atRiskPin, sort, order, offset, withTotal, ...rest } = query;
      const filter = Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== undefined)) as DeviceFilter;
      const scan = rollout !== undefined || atRiskHost !== undefined || sort !== undefined || order !== undefined || offset !== undefined || withTotal === 'true';
      if (!scan) {
        const page = await deps.registry.reads.devices.list(filter, limit, cursor); // a list may lag: the replica when configured
        return c.json({ items: page.items.map(deviceView), nextCursor: page.nextCursor });
      }
      if (cursor !== undefined) throw new GatewayError('E_BAD_QUERY', 'cursor pages by id; with sort/offset/rollout/atRisk/withTotal use offset');
      const r = await scanDevices(deps, { filter, rollout, execState, atRiskHost, atRiskPin, sort: sort ?? 'deviceId', order: order ?? 'asc', offset: offset ?? 0, limit }, clock.now());
      return c.json({
        items: r.items.map((d) => ({ ...deviceView(d), ...(r.executions.has(d.id) ? { execution: r.executions.get(d.id) } : {}) })),
        nextCursor: null,
        total: r.total,
        totalCapped: r.totalCapped,
        offset: r.offset,
        nextOffset: r.nextOffset,
        prevOffset: r.prevOffset,
      });
    },
  );

  routes.add({ method: 'get', path: '/api/devices/:id', response: contract.devices.deviceDetail, role: 'viewer', summary: 'One device with its recent acks and reports, and the rollouts that reached it' }, async (c) => {
    const id = c.req.param('id');
    const device = id === undefined ? undefined : await devices.get(id);
    if (!device) throw GatewayError.notFound(`device "${id}"`);
    const { acks, reports } = await devices.history(device.id, 100);
    const history = [
      ...acks.map((a) => ({ type: 'ack' as const, at: a.receivedAt, seq: a.seq, sha256: a.sha256, status: a.status, code: a.code, pinsetId: a.pinsetId })),
      ...reports.map((r) => ({
        type: 'report' as const,
        at: r.receivedAt,
        host: r.host,
        port: r.port,
        result: r.result,
        servedPins: r.servedPins,
        installedSeq: r.installedSeq,
        deviceTime: r.deviceTime,
      })),
    ].sort((a, b) => b.at - a.at);
    // the rollouts that reached this device, with its execution in each (issue 15: detail links to its rollouts)
    const rollouts = [];
    for (const r of await deps.rollouts.list({ fleet: device.fleet })) {
      const e = (await deps.rollouts.executions(r.id)).find((x) => x.deviceId === device.id);
      if (e !== undefined) rollouts.push({ id: r.id, seq: r.seq, state: r.state, wave: e.wave, execution: e.state });
    }
    // security: failed and throttled log-ins, session takeovers, reports dropped, since the gateway started (issue 17);
    // zeros rather than null when the embedded broker counted nothing for it (the device page shows them either way)
    const admitted = deps.admission === undefined ? null : (deps.admission.deviceState(device.id) ?? NO_LOGIN_TROUBLE);
    const security = admitted === null ? null : { ...admitted, ...(deps.reportsDroppedFor ? { reportsDropped: deps.reportsDroppedFor(device.id) } : {}) };
    return c.json({ ...deviceView(device), malformed: await devices.malformedCounts(device.id), security, history, rollouts });
  });
}
