/**
 * A driver that takes over (restart, or a new leader) catches up on acks committed while nobody drove the rollout.
 * The trap it guards against: an execution's appliedAt is the old leader's clock when it *processed* "applied", and
 * another replica may have committed the device's "verified" before that moment (the leader's queue lags the
 * ingest). Reading acks "since appliedAt" missed it, and the device sat in APPLIED until its verify timeout (seen in
 * test/scale/drill-against-scale.test.ts with the leader killed at wave 2).
 */
import { afterAll, expect, it } from 'vitest';
import { openRegistry } from '../../gateway/registry/open-registry';
import { encodeAck, fromHex } from '../../shared/index';
import { connectDevice } from '../gateway/helpers/device-client';
import { waitFor } from '../gateway/helpers/wait-for';
import { startFixture, type Fixture } from './helpers/rollout-fixture';

let f: Fixture | null = null;
afterAll(async () => {
  await f?.close();
});

it('a "verified" committed before the old leader processed "applied" completes the execution after take-over', async () => {
  f = await startFixture();
  const [dev] = await f.enrolFleet('fleet-c', 1);
  const p = await f.pinset('fleet-c');
  const id = (await f.call('POST', '/api/rollouts', { pinsetId: p.id, plan: { waves: [{ limit: { percent: 100 } }] }, gates: { soakMs: 0 } })).body.id;
  const device = await connectDevice(f.url, dev!.id, dev!.credential, { hello: { fleet: 'fleet-c' } });
  await f.call('POST', `/api/rollouts/${id}/start`);
  await waitFor('update delivered', () => device.received.update.length > 0);
  await device.publish('ack', encodeAck({ seq: p.seq, sha256: fromHex(p.sha256), status: 'applied' }));
  await waitFor('APPLIED', async () => (await f!.rollout(id)).executions.byKind.APPLIED === 1);
  await device.end();
  const database = f.gw.files.database;
  await f.gw.stop();

  // while no driver runs: the device's "verified", committed (as by another replica) with a receipt time *before*
  // the old leader's appliedAt
  const registry = await openRegistry({ file: database, url: null, readUrl: null, poolSize: 1 }, { now: () => Date.now() });
  const at = Date.now() - 60_000;
  const written = await registry.ingest.writeBatch({
    acks: [{ deviceId: dev!.id, seq: p.seq, sha256: p.sha256, status: 'verified', code: null, pinsetId: p.id, at }],
    reports: [],
    malformed: [],
    seen: new Map([[dev!.id, at]]),
  });
  expect(written.acks).toEqual([true]);
  await registry.close();

  await f.restart();
  const done = await waitFor('rollout completed after catch-up', async () => {
    const r = await f!.rollout(id);
    return r.state.kind === 'COMPLETED' ? r : null;
  }, 15_000);
  expect(done.executions.byKind.VERIFIED).toBe(1);
});
