/**
 * Leadership in the storage contract (docs/scale.md "Replicas"): the epoch rises at each acquisition, and a fenced
 * write is refused (E_NOT_LEADER, nothing written) once another holder acquired the role. Run on SQLite and PostgreSQL.
 */
import { hostname } from 'node:os';
import { describe, expect, it } from 'vitest';
import { DomainError } from '../../gateway/errors/domain-error';
import { LEADER_ROLE } from '../../gateway/registry/leader-lock';
import type { Registry } from '../../gateway/registry/registry';
import { perTestDatabase, type ContractDatabase } from './registry-contract';

export function leaderContract(name: string, fresh: () => Promise<ContractDatabase>): void {
  describe(`storage contract, leadership: ${name}`, () => {
    const { open } = perTestDatabase(fresh);
    const me = `${hostname()}:${process.pid}`;
    const enrolFenced = (r: Registry, id: string, epoch: number) =>
      r.transaction((tx) => tx.devices.insert({ id, fleet: 'f', deviceClass: 'c', labels: [], credentialHash: 'x', createdAt: 0 }), { role: LEADER_ROLE, epoch });

    it('a fenced write commits while its epoch is current, and is refused with E_NOT_LEADER, writing nothing, once another holder acquired the role', async () => {
      const a = await open();
      const lockA = a.leaderLock(LEADER_ROLE, { holder: me, stallMs: 10_000 });
      const first = await lockA.tryAcquire(1000);
      expect(first?.epoch).toBe(1);
      expect(await lockA.stillHeld()).toBe(true);
      expect(await enrolFenced(a, 'd-1', 1)).toBe(true);
      await lockA.release();

      const b = await open(); // another process on the same database
      const lockB = b.leaderLock(LEADER_ROLE, { holder: me, stallMs: 10_000 });
      expect((await lockB.tryAcquire(2000))?.epoch).toBe(2);
      // the ex-leader wakes up and writes with its old epoch: refused inside the transaction
      const refused = await enrolFenced(a, 'd-2', 1).catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(DomainError);
      expect((refused as DomainError).code).toBe('E_NOT_LEADER');
      expect(await a.devices.get('d-2')).toBeUndefined();
      // the new leader's fenced write goes through; an unfenced write (device traffic) is never refused
      expect(await enrolFenced(b, 'd-3', 2)).toBe(true);
      expect(await a.transaction((tx) => tx.devices.insert({ id: 'd-4', fleet: 'f', deviceClass: 'c', labels: [], credentialHash: 'x', createdAt: 0 }))).toBe(true);
      await lockB.release();
    });

    it('a fenced write before any acquisition is refused (no epoch row yet)', async () => {
      const r = await open();
      const e = await enrolFenced(r, 'd-1', 1).catch((err: unknown) => err);
      expect((e as DomainError).code).toBe('E_NOT_LEADER');
      expect(await r.devices.get('d-1')).toBeUndefined();
    });
  });
}
