/**
 * Issue 17: a plan whose last wave has a selector delivers to the devices it selects and to no other — neither as
 * late joiners while it runs nor on a hello after COMPLETED. Real gateway, real MQTT devices.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { waitFor } from '../gateway/helpers/wait-for';
import { connectAll, disconnectAll, startFixture, type Fixture } from '../rollout-driver/helpers/rollout-fixture';
import type { SimDevice } from '../rollout-driver/helpers/sim-device';

let f: Fixture | null = null;
let all: SimDevice[] = [];
afterAll(async () => {
  await disconnectAll(all);
  await f?.close();
});

describe('plan selectors on the last wave', () => {
  it('{"waves":[{"selector":{"deviceIds":["fs-005"]},"limit":{"percent":100}}]} delivers to fs-005 only', async () => {
    f = await startFixture();
    all = await f.enrolFleet('fs', 10);
    const p = await f.pinset('fs');
    const plan = { waves: [{ selector: { deviceIds: ['fs-005'] }, limit: { percent: 100 } }] };
    const created = await f.call('POST', '/api/rollouts', { pinsetId: p.id, plan, gates: { soakMs: 10 } });
    expect(created.status).toBe(201);
    const id = created.body.id as string;
    await connectAll(f.url, all);
    await f.call('POST', `/api/rollouts/${id}/start`);
    const done = await waitFor('rollout completed', async () => {
      const r = await f!.rollout(id);
      return r.state.kind === 'COMPLETED' ? r : null;
    }, 20_000);
    expect(done.executions.byKind.VERIFIED).toBe(1);
    // a hello after completion (every device reconnects) must not hand the set to the devices the plan left out
    await disconnectAll(all);
    const hellos: (number | null)[] = [];
    f.gw.events.on('hello', (e) => hellos.push(e.deliveredPinSetId));
    await connectAll(f.url, all);
    await waitFor('10 hellos handled', () => hellos.length >= 10);
    expect(hellos.filter((x) => x !== null)).toEqual([]);
    const after = await f.call('GET', '/api/devices?fleet=fs&limit=100');
    const installed = after.body.items.filter((d: { installedSeq: number }) => d.installedSeq === p.seq).map((d: { deviceId: string }) => d.deviceId);
    expect(installed).toEqual(['fs-005']);
    expect(all.filter((d) => d.id !== 'fs-005').every((d) => d.updates === 0)).toBe(true);
    expect((await f.rollout(id)).executions.total).toBe(1);
  });
});
