/**
 * The storage contract for the external broker's backend client-id leases (issue 13, docs/scale.md "Backend
 * connections"), run on a real SQLite file and a real PostgreSQL 15 (sqlite.test.ts, postgres.test.ts), an empty,
 * freshly migrated database per test. Two registries opened on the same database stand for two replicas.
 */
import { describe, expect, it } from 'vitest';
import type { Registry } from '../../gateway/registry/registry';
import { perTestDatabase, type ContractDatabase } from './registry-contract';

const TTL = 10_000;

export function backendLeaseContract(name: string, fresh: () => Promise<ContractDatabase>): void {
  describe(`storage contract, backend client-id leases: ${name}`, () => {
    const { open, database } = perTestDatabase(fresh);

    it('migrations create backend_leases; an unused slot has no row', async () => {
      const r = await open();
      expect(await database().tables()).toContain('backend_leases');
      expect(await r.backendLeases.list()).toEqual([]);
    });

    it('acquire: an unused slot is taken (epoch 1); a held one is refused to another replica until its lease ran out', async () => {
      const a = await open();
      const b = await open();
      expect(await a.backendLeases.acquire(3, 'A', 1000, TTL)).toEqual({ slot: 3, holder: 'A', expiresAt: 11_000, epoch: 1, wantedBy: null });
      expect(await b.backendLeases.acquire(3, 'B', 1001, TTL)).toBeNull();
      expect(await b.backendLeases.acquire(3, 'B', 10_999, TTL)).toBeNull();
      // expiresAt ≤ now: the lease ran out, B takes it over and the epoch tells the holdings apart
      expect(await b.backendLeases.acquire(3, 'B', 11_000, TTL)).toEqual({ slot: 3, holder: 'B', expiresAt: 21_000, epoch: 2, wantedBy: null });
      expect(await a.backendLeases.list()).toEqual([{ slot: 3, holder: 'B', expiresAt: 21_000, epoch: 2, wantedBy: null }]);
    });

    it('of replicas racing for the same slot exactly one wins', async () => {
      const rs = [await open(), await open(), await open()];
      for (let slot = 0; slot < 8; slot++) {
        const wins = await Promise.all(rs.map((r, i) => r.backendLeases.acquire(slot, `R${i}`, 1000, TTL)));
        expect(wins.filter((w) => w !== null)).toHaveLength(1);
      }
      // and again when the leases ran out: one takeover each, epochs bumped once
      for (let slot = 0; slot < 8; slot++) {
        const wins = await Promise.all(rs.map((r, i) => r.backendLeases.acquire(slot, `R${i}`, 20_000, TTL)));
        expect(wins.filter((w) => w !== null).map((w) => w!.epoch)).toEqual([2]);
      }
    });

    it('renew extends only the unexpired leases the holder still holds', async () => {
      const a = await open();
      await a.backendLeases.acquire(0, 'A', 1000, TTL);
      await a.backendLeases.acquire(1, 'A', 1000, TTL);
      await a.backendLeases.acquire(2, 'B', 1000, TTL);
      expect((await a.backendLeases.renew('A', [0, 1, 2], 5000, TTL)).map((r) => [r.slot, r.expiresAt])).toEqual([[0, 15_000], [1, 15_000]]);
      // slot 1 ran out and B took it: A's renewal no longer covers it
      await a.backendLeases.acquire(1, 'B', 15_000, TTL);
      expect((await a.backendLeases.renew('A', [0, 1], 15_000, TTL)).map((r) => r.slot)).toEqual([]); // slot 0 ran out too (15,000 ≤ now)
      expect(await a.backendLeases.renew('A', [], 15_000, TTL)).toEqual([]);
      expect((await a.backendLeases.list()).map((r) => [r.slot, r.holder, r.epoch])).toEqual([[0, 'A', 1], [1, 'B', 2], [2, 'B', 1]]);
    });

    it('release: by its holder only; a released slot is free at once, or reserved for the replica that asked for it', async () => {
      const a = await open();
      await a.backendLeases.acquire(0, 'A', 1000, TTL);
      await a.backendLeases.acquire(1, 'A', 1000, TTL);
      expect(await a.backendLeases.release(0, 'B', 2000)).toBe(false);
      expect(await a.backendLeases.release(0, 'A', 2000)).toBe(true);
      expect((await a.backendLeases.list())[0]).toEqual({ slot: 0, holder: null, expiresAt: 2000, epoch: 1, wantedBy: null });
      // nobody asked: anyone takes it at once (its session may hold messages)
      expect((await a.backendLeases.acquire(0, 'C', 1500, TTL))?.epoch).toBe(2);
      // slot 1: B asks, A hands it over; C may not take it before the reservation ends, B may
      expect(await a.backendLeases.want(1, 'B')).toBe(true);
      expect(await a.backendLeases.want(1, 'C')).toBe(false); // B asked first
      expect(await a.backendLeases.want(1, 'A')).toBe(false); // not from its own holder
      expect((await a.backendLeases.list())[1]!.wantedBy).toBe('B');
      expect(await a.backendLeases.release(1, 'A', 1500 + TTL)).toBe(true);
      expect(await a.backendLeases.acquire(1, 'C', 1600, TTL)).toBeNull();
      expect(await a.backendLeases.acquire(1, 'B', 1600, TTL)).toEqual({ slot: 1, holder: 'B', expiresAt: 11_600, epoch: 2, wantedBy: null });
      // a reservation the wanter never used ends: anyone takes the slot then
      await a.backendLeases.want(1, 'D');
      await a.backendLeases.release(1, 'B', 20_000);
      expect(await a.backendLeases.acquire(1, 'C', 19_999, TTL)).toBeNull();
      expect((await a.backendLeases.acquire(1, 'C', 20_000, TTL))?.holder).toBe('C');
    });

    it('want: refused for a released or unused slot (nothing to hand over)', async () => {
      const a = await open();
      expect(await a.backendLeases.want(5, 'B')).toBe(false);
      await a.backendLeases.acquire(5, 'A', 1000, TTL);
      await a.backendLeases.release(5, 'A', 1000);
      expect(await a.backendLeases.want(5, 'B')).toBe(false);
      expect(await a.backendLeases.list()).toEqual([{ slot: 5, holder: null, expiresAt: 1000, epoch: 1, wantedBy: null }]);
    });
  });
}
