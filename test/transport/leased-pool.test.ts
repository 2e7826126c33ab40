/**
 * The leased pool's I/O against a real Mosquitto and a real SQLite registry: a replica that can no longer renew (its
 * registry unreachable) closes its connection at its deadline, before another replica may take the client id; the
 * other takes it over once the lease ran out, without Mosquitto having to kick anyone ([MQTT-3.1.4-3]).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { hashDeviceCredentialPbkdf2 } from '../../gateway/auth/device-credentials';
import { systemClock } from '../../gateway/clock';
import { BackendConnection } from '../../gateway/external-broker/backend-connection';
import { LeasedPool } from '../../gateway/external-broker/leased-pool';
import { signalReload } from '../../gateway/external-broker/password-file';
import { defaultTimings } from '../../gateway/external-broker/pool-lease';
import type { Logger } from '../../gateway/logger';
import type { BackendLeaseRepo } from '../../gateway/registry/backend-lease-repo';
import type { Registry } from '../../gateway/registry/registry';
import { openSqliteRegistry } from '../../gateway/registry/sqlite/sqlite-registry';
import { removeDir, tempDir } from '../gateway/helpers/test-gateway';
import { startMosquitto, type TestMosquitto } from '../support/mosquitto';
import { waitFor } from '../support/wait-for';

describe('leased pool: a lease that cannot be renewed is given up before anyone may take it', () => {
  let m: TestMosquitto;
  let dir: string;
  let registry: Registry;
  const pools: LeasedPool[] = [];
  /** Every log line of both pools, in order: `A message` / `B message`. */
  const seq: { who: string; message: string; context: Record<string, unknown> }[] = [];
  const loggerOf = (who: string): Logger => {
    const push = (message: string, context?: Record<string, unknown>) => seq.push({ who, message, context: context ?? {} });
    return { info: push, warn: push, error: push };
  };

  beforeAll(async () => {
    m = await startMosquitto();
    writeFileSync(m.passwordFile, `${m.gatewayUser}:${await hashDeviceCredentialPbkdf2('gw')}\n`);
    signalReload(m.pidFile);
    dir = tempDir('pingw-leased-pool-');
    registry = openSqliteRegistry(join(dir, 'registry.sqlite'), systemClock);
  });
  afterAll(async () => {
    for (const p of pools) await p.close();
    await registry?.close();
    await m?.stop();
    removeDir(dir);
  });

  const pool = (who: string, leases: BackendLeaseRepo) => {
    const logger = loggerOf(who);
    const p = new LeasedPool({
      leases, clock: systemClock, logger, poolSize: 1, share: 1, timings: defaultTimings(3000), connectTimeoutMs: 30_000,
      connection: (slot, gate) =>
        new BackendConnection({
          url: new URL(m.backendUrl), ca: readFileSync(m.caFile), username: m.gatewayUser, password: 'gw', clientId: `lp-${slot}`,
          receiveMaximum: 10, subscriptions: ['$share/lp/pins/v1/+/report'], onMessage: async () => {}, logger, ...gate,
        }),
    });
    pools.push(p);
    return p;
  };

  it('A loses its registry: its connection closes at the deadline; B takes the id over afterwards, nobody kicked', async () => {
    // A's registry becomes unreachable: a renewal hangs (a partition: no answer, no error) until it comes back and
    // the call fails; only A's deadline timer can stop A using the id meanwhile (the real repository is untouched)
    let unreachable = false;
    const hanging: (() => void)[] = [];
    const real = registry.backendLeases;
    const leasesA: BackendLeaseRepo = {
      list: () => real.list(),
      acquire: (...a) => real.acquire(...a),
      renew: (...a) =>
        unreachable ? new Promise((_, reject) => hanging.push(() => reject(new Error('registry unreachable (timed out)')))) : real.renew(...a),
      release: (...a) => real.release(...a),
      want: (...a) => real.want(...a),
    };
    const a = pool('A', leasesA);
    await waitFor('A connected', () => a.start().then(() => true, () => false), 20_000, 100);
    expect(a.heldSlots()).toEqual([0]);
    const connA = a.connections()[0]!;
    expect(connA.connected).toBe(true);

    const b = pool('B', real);
    const bStarted = b.start(); // nothing free: B waits (its share is one slot, A holds the only one)
    await b.scan();
    expect(b.heldSlots()).toEqual([]);

    unreachable = true;
    await bStarted; // B connected with lp-0 once A's lease ran out
    expect(b.heldSlots()).toEqual([0]);
    expect(a.heldSlots()).toEqual([]);
    expect(connA.connected).toBe(false);
    // in that order: A gave the id up (deadline = lease end − margin), then B took it (lease end)
    const lostAt = seq.findIndex((l) => l.who === 'A' && l.message.startsWith('backend slot lease lost'));
    const takenAt = seq.findIndex((l) => l.who === 'B' && l.message === 'backend slot taken over');
    expect(lostAt).toBeGreaterThanOrEqual(0);
    expect(seq[lostAt]!.context['why']).toBe('expired');
    expect(takenAt).toBeGreaterThan(lostAt);
    expect(seq[takenAt]!.context['from']).toBe(a.holder);
    // Mosquitto never had to close A's connection for B's CONNECT with the same id
    await waitFor('both CONNECTs of lp-0 in the broker log', () => (m.log().match(/ as lp-0 /g) ?? []).length === 2, 5000, 50);
    expect(m.log()).not.toMatch(/Client lp-0 already connected, closing old connection/);
    // A, woken up to a reachable registry, does not get it back: B holds it within B's share
    unreachable = false;
    for (const fail of hanging.splice(0)) fail();
    await a.scan().catch(() => {}); // the hung scan ends with its error
    await a.scan();
    expect(a.heldSlots()).toEqual([]);
  }, 60_000);
});
