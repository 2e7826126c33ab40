/**
 * The storage contract for the pin lifecycle records (issue 16): kill switches, rotation plans and the rotation
 * gate's offline count, run on a real SQLite file and a real PostgreSQL 15 (sqlite.test.ts, postgres.test.ts), an
 * empty, freshly migrated database per test.
 */
import { describe, expect, it } from 'vitest';
import type { Registry } from '../../gateway/registry/registry';
import type { NewKillSwitch, NewPlan, PlanHistoryEntry } from '../../gateway/registry/lifecycle-rows';
import type { PinSetRow } from '../../gateway/registry/rows';
import { PIN_A, PIN_B, PIN_C } from '../rollout-driver/helpers/sim-device';
import { perTestDatabase, type ContractDatabase } from './registry-contract';

export function lifecycleContract(name: string, fresh: () => Promise<ContractDatabase>): void {
  describe(`storage contract, lifecycle records: ${name}`, () => {
    const { open, database } = perTestDatabase(fresh);

    const enrol = (r: Registry, id: string, fleet = 'f') =>
      r.transaction(async (tx) => {
        await tx.devices.insert({ id, fleet, deviceClass: 'c', labels: [], credentialHash: 'x', createdAt: 0 });
        await tx.coverage.reconcile(id);
      });
    const hello = (r: Registry, id: string, installedSeq: number, installedSha256: string | null) =>
      r.transaction(async (tx) => {
        await tx.devices.applyHello(id, { firmware: '1', installedSeq, installedSha256, keysetVersion: 1, at: 1 });
        await tx.coverage.reconcile(id);
      });
    const pinset = (r: Registry, seq: number, fleet = 'f') =>
      r.pinsets.insert({
        fleet, seq, envelope: Buffer.alloc(8, seq), sha256: `${fleet}${seq}`.padStart(64, '0'), keysetVersion: 1, notAfter: 4e9, source: 'gateway', createdAt: seq, createdBy: 't',
        json: { format: 1, seq, issuedAt: 1, notAfter: 4e9, keysetVersion: 1, target: { fleet }, hosts: [{ name: 'h.example', includeSubdomains: false, pins: [PIN_A, PIN_B], enforce: true }] },
      }) as Promise<PinSetRow>;
    const kill = (over: Partial<NewKillSwitch> = {}): NewKillSwitch => ({
      fleet: 'f', host: 'h.example', mode: 'fail-open', reason: 'key leaked', pinsetId: 7, seq: 5, baseSeq: 4, source: 'gateway',
      supersededRollouts: ['r1', 'r2'], createdAt: 1_800_000_000_123, createdBy: 'admin', ...over,
    });
    const plan = (over: Partial<NewPlan> = {}): NewPlan => ({
      fleet: 'f', host: 'h.example', port: null, currentPin: PIN_A, nextPin: PIN_B, backupPin: PIN_C, target: 95, switchAt: null,
      createdAt: 1_800_000_000_000, createdBy: 'admin', ...over,
    });
    const entry = (at: number, action: string, detail?: Record<string, unknown>): PlanHistoryEntry => ({
      at, actor: 'admin', action, from: 'planned', to: 'published', ...(detail === undefined ? {} : { detail }),
    });

    it('migrations create kill_switches and rotation_plans', async () => {
      await open();
      const tables = await database().tables();
      expect(tables).toContain('kill_switches');
      expect(tables).toContain('rotation_plans');
    });

    it('kill switches: insert returns the row with its id, get, list newest first per fleet and limited', async () => {
      const r = await open();
      const k1 = await r.killSwitches.insert(kill());
      expect(k1).toEqual({ id: expect.any(Number), ...kill() });
      const k2 = await r.killSwitches.insert(kill({ fleet: 'g', source: 'offline', mode: 'unpin', supersededRollouts: [] }));
      const k3 = await r.killSwitches.insert(kill({ seq: 6, baseSeq: 5 }));
      expect(k2.id).toBeGreaterThan(k1.id);
      expect(await r.killSwitches.get(k2.id)).toEqual(k2);
      expect(await r.killSwitches.get(k3.id + 100)).toBeUndefined();
      expect((await r.killSwitches.list()).map((k) => k.id)).toEqual([k3.id, k2.id, k1.id]);
      expect((await r.killSwitches.list('f')).map((k) => k.id)).toEqual([k3.id, k1.id]);
      expect((await r.killSwitches.list(undefined, 1)).map((k) => k.id)).toEqual([k3.id]);
      expect(await r.killSwitches.list('none')).toEqual([]);
    });

    it('kill switch coverage counts installed seq ≥ the kill set, online and overall; other fleets and decommissioned left out', async () => {
      const r = await open();
      expect(await r.killSwitches.coverage('f', 5)).toEqual({ total: 0, online: 0, have: 0, onlineHave: 0 });
      for (const id of ['a', 'b', 'c', 'd', 'e']) await enrol(r, id);
      await enrol(r, 'other', 'g');
      await hello(r, 'a', 5, null); // the kill set
      await hello(r, 'b', 6, null); // a later set counts (built after the kill)
      await hello(r, 'c', 4, null); // the base: not yet
      await hello(r, 'd', 5, null);
      await hello(r, 'other', 9, null);
      for (const id of ['a', 'c', 'other']) await r.devices.setOnline(id, true, 2);
      await r.transaction(async (tx) => {
        await tx.devices.setDecommissioned('d');
        await tx.coverage.reconcile('d');
      });
      expect(await r.killSwitches.coverage('f', 5)).toEqual({ total: 4, online: 2, have: 2, onlineHave: 1 });
      expect(await r.killSwitches.coverage('g', 5)).toEqual({ total: 1, online: 1, have: 1, onlineHave: 1 });
    });

    it('rotation plans: insert starts planned with an empty history; target in percent with two decimals; list filters', async () => {
      const r = await open();
      const p1 = await r.rotationPlans.insert(plan({ target: 99.5, switchAt: 1_900_000_000, port: 8883 }));
      expect(p1).toEqual({
        id: expect.any(Number), ...plan({ target: 99.5, switchAt: 1_900_000_000, port: 8883 }), newNextPin: null, step: 'planned', history: [],
        stage1PinsetId: null, stage1RolloutId: null, stage2PinsetId: null, stage2RolloutId: null, updatedAt: 1_800_000_000_000,
      });
      const p2 = await r.rotationPlans.insert(plan({ host: 'other.example' }));
      const p3 = await r.rotationPlans.insert(plan({ fleet: 'g' }));
      expect(await r.rotationPlans.get(p1.id)).toEqual(p1);
      expect(await r.rotationPlans.get(p3.id + 100)).toBeUndefined();
      expect((await r.rotationPlans.list()).map((p) => p.id)).toEqual([p3.id, p2.id, p1.id]);
      expect((await r.rotationPlans.list({ fleet: 'f' })).map((p) => p.id)).toEqual([p2.id, p1.id]);
      expect((await r.rotationPlans.list({ fleet: 'f', host: 'h.example' })).map((p) => p.id)).toEqual([p1.id]);
      expect((await r.rotationPlans.list({ host: 'h.example' })).map((p) => p.id)).toEqual([p3.id, p1.id]);
    });

    it('rotation plans: update moves the step, writes only the fields given, appends to the history; a missing plan is undefined', async () => {
      const r = await open();
      const p = await r.rotationPlans.insert(plan({ switchAt: 1_900_000_000 }));
      const u1 = await r.rotationPlans.update(p.id, { stage1PinsetId: 3, stage1RolloutId: 'r4' }, 'published', entry(10, 'publish', { seq: 3 }));
      expect(u1).toMatchObject({ step: 'published', stage1PinsetId: 3, stage1RolloutId: 'r4', switchAt: 1_900_000_000, updatedAt: 10 });
      expect(u1?.history).toEqual([entry(10, 'publish', { seq: 3 })]);
      const u2 = await r.rotationPlans.update(p.id, { switchAt: null, newNextPin: PIN_C }, 'rolling-out', entry(20, 'roll-out'));
      expect(u2).toMatchObject({ step: 'rolling-out', stage1PinsetId: 3, switchAt: null, newNextPin: PIN_C, updatedAt: 20 });
      expect(u2?.history).toEqual([entry(10, 'publish', { seq: 3 }), entry(20, 'roll-out')]);
      expect(await r.rotationPlans.get(p.id)).toEqual(u2);
      expect(await r.rotationPlans.update(p.id + 100, {}, 'done', entry(30, 'complete'))).toBeUndefined();
    });

    it('rotation plans: updates from two connections at once keep every history entry', async () => {
      const a = await open();
      const b = await open();
      const p = await a.rotationPlans.insert(plan());
      await Promise.all(
        Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? a : b).rotationPlans.update(p.id, {}, 'published', entry(i, `step-${i}`))),
      );
      const history = (await a.rotationPlans.get(p.id))?.history ?? [];
      expect(history.map((h) => h.action).sort()).toEqual(Array.from({ length: 20 }, (_, i) => `step-${i}`).sort());
    });

    it('kill switches and plans written in a unit of work roll back with it', async () => {
      const r = await open();
      await expect(
        r.transaction(async (tx) => {
          await tx.killSwitches.insert(kill());
          await tx.rotationPlans.insert(plan());
          throw new Error('abort');
        }),
      ).rejects.toThrow('abort');
      expect(await r.killSwitches.list()).toEqual([]);
      expect(await r.rotationPlans.list()).toEqual([]);
    });

    it('devices: offline count of the devices counted under given installed-set keys (the rotation gate at a later time)', async () => {
      const r = await open();
      const s1 = await pinset(r, 1);
      for (const id of ['a', 'b', 'c', 'd']) await enrol(r, id);
      await enrol(r, 'x', 'g');
      await hello(r, 'a', 1, s1.sha256);
      await hello(r, 'b', 1, s1.sha256);
      await r.devices.setOnline('a', true, 2);
      await r.devices.setOnline('c', true, 2);
      expect(await r.devices.countOfflineWithInstalledKeys('f', [s1.sha256])).toBe(1); // b
      expect(await r.devices.countOfflineWithInstalledKeys('f', [s1.sha256, 'unknown'])).toBe(2); // b, d
      expect(await r.devices.countOfflineWithInstalledKeys('f', [])).toBe(0);
      expect(await r.devices.countOfflineWithInstalledKeys('g', ['unknown'])).toBe(1);
    });

    it('devices: the offline count follows every write — presence flips (repeated too), hellos online and offline, start-up all-offline', async () => {
      const r = await open();
      const s1 = await pinset(r, 1);
      const s2 = await pinset(r, 2);
      const ids = ['a', 'b', 'c', 'd', 'e'];
      for (const id of ids) await enrol(r, id);
      const count = (keys: string[]) => r.devices.countOfflineWithInstalledKeys('f', keys);
      expect(await count(['unknown'])).toBe(5);
      await r.devices.setOnline('a', true, 2);
      await r.devices.setOnline('a', true, 3); // the same value again: no change
      await r.devices.setOnline('b', true, 2);
      expect(await count(['unknown'])).toBe(3);
      await hello(r, 'a', 1, s1.sha256); // online: not counted
      await hello(r, 'c', 1, s1.sha256); // offline (the external broker's registry presence): counted under s1
      expect(await count([s1.sha256])).toBe(1);
      expect(await count(['unknown'])).toBe(2); // d, e
      await r.devices.setOnline('a', false, 4);
      await r.devices.setOnline('a', false, 5);
      expect(await count([s1.sha256])).toBe(2); // a, c
      await hello(r, 'c', 2, s2.sha256); // moves c from s1 to s2 while offline
      expect(await count([s1.sha256])).toBe(1);
      expect(await count([s2.sha256])).toBe(1);
      await r.devices.setAllOffline();
      expect(await count(['unknown'])).toBe(3); // b joins d, e
      expect(await count([s1.sha256, s2.sha256, 'unknown'])).toBe(5);
    });
  });
}
