import * as contract from '../../../api-contract/index';
import type { PinSetRow } from '../../registry/rows';
import { pinsetDraftSchema } from '../../pinsets/pinset-draft';
import type { ApiDeps } from '../api-deps';
import { GatewayError } from '../gateway-error';
import type { RouteTable } from '../route-table';
import { BULK_BODY_BYTES, deliverBody, envelopeBody, fleetQuery, fromBase64, idParam } from '../schemas';

/** At most this many refused devices are listed in a deliver answer (the counts are complete). */
const MAX_LISTED_REFUSALS = 100;

function pinsetView(p: PinSetRow, ackCounts: Record<string, number>) {
  return {
    id: p.id,
    fleet: p.fleet,
    seq: p.seq,
    sha256: p.sha256,
    keysetVersion: p.keysetVersion,
    source: p.source,
    createdAt: p.createdAt,
    createdBy: p.createdBy,
    releasedAt: p.releasedAt,
    acks: ackCounts,
    pinset: p.json,
  };
}

export function pinsetRoutes(routes: RouteTable, deps: ApiDeps): void {
  const { pinsets, publisher, delivery, devices, audit, clock } = deps;
  const pinsetOr404 = async (raw: string | undefined): Promise<PinSetRow> => {
    const id = idParam.safeParse(raw);
    const row = id.success ? await pinsets.get(id.data) : undefined;
    if (!row) throw GatewayError.notFound(`pin set ${raw ?? ''}`);
    return row;
  };

  routes.add(
    {
      method: 'post',
      path: '/api/pinsets', response: contract.pinsets.published,
      role: 'publisher',
      summary: 'Create a pin set from JSON; the gateway signs it after the live check of its enforced hosts',
      body: pinsetDraftSchema,
      status: 201,
    },
    async (c, { body, actor }) => c.json(await publisher.createFromJson(body, actor), 201),
  );

  routes.add(
    {
      method: 'post',
      path: '/api/pinsets/envelope', response: contract.pinsets.published,
      role: 'publisher',
      summary: 'Upload a pin set signed offline (pinctl sign); verified against the trusted keyset',
      body: envelopeBody,
      status: 201,
    },
    async (c, { body, actor }) => c.json(await publisher.createFromEnvelope(fromBase64(body.envelope), actor), 201),
  );

  routes.add({ method: 'get', path: '/api/pinsets', response: contract.pinsets.pinsets, role: 'viewer', summary: 'Pin sets, newest seq first per fleet', query: fleetQuery }, async (c, { query }) =>
    c.json(await Promise.all((await pinsets.list(query.fleet)).map(async (p) => pinsetView(p, await pinsets.ackCounts(p.id))))),
  );

  routes.add({ method: 'get', path: '/api/pinsets/:id', response: contract.pinsets.pinsetWithEnvelope, role: 'viewer', summary: 'One pin set with its envelope (base64) and ack counts' }, async (c) => {
    const p = await pinsetOr404(c.req.param('id'));
    return c.json({ ...pinsetView(p, await pinsets.ackCounts(p.id)), envelope: Buffer.from(p.envelope).toString('base64') });
  });

  routes.add(
    {
      method: 'post',
      path: '/api/pinsets/:id/deliver', response: contract.pinsets.delivered,
      role: 'operator',
      summary: 'Deliver a pin set to the given devices, or release it to its whole fleet (devices get it on hello)',
      body: deliverBody,
      maxBodyBytes: BULK_BODY_BYTES,
    },
    async (c, { body, actor }) => {
      const p = await pinsetOr404(c.req.param('id'));
      const release = body.deviceIds === undefined;
      if (release) await pinsets.markReleased(p.id, clock.now());
      const ids = body.deviceIds ?? await devices.idsOfFleet(p.fleet);
      const counts = { published: 0, queued: 0, alreadyInstalled: 0, refused: 0 };
      const refused: { deviceId: string; reason: string }[] = [];
      for (const id of ids) {
        const r = await delivery.deliver(id, p.id);
        if (!r.ok) {
          counts.refused++;
          if (refused.length < MAX_LISTED_REFUSALS) refused.push({ deviceId: id, reason: r.reason });
        } else if (r.status === 'published') counts.published++;
        else if (r.status === 'queued') counts.queued++;
        else counts.alreadyInstalled++;
      }
      await audit.append(actor, release ? 'pinset.release' : 'pinset.deliver', `${p.fleet}#${p.seq}`, { id: p.id, devices: ids.length, ...counts });
      return c.json({ pinsetId: p.id, released: release, devices: ids.length, ...counts, refusedDevices: refused });
    },
  );
}
