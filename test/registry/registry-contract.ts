/**
 * The storage contract suite (the shape of aedes' abstract-persistence): one function taking a factory, run
 * against every implementation — test/registry/sqlite.test.ts (a real SQLite file) and postgres.test.ts (a real
 * PostgreSQL 15 started by the harness). Each test gets an empty, freshly migrated database.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Registry } from '../../gateway/registry/registry';
import type { IngestAck } from '../../gateway/registry/repositories';
import type { PinSetRow } from '../../gateway/registry/rows';
import { IngestWriter } from '../../gateway/registry/ingest-writer';
import { createRollout, queued, type ExecutionRecord } from '../../gateway/rollout-engine/index';
import { PIN_A, PIN_B, PIN_C } from '../rollout-driver/helpers/sim-device';

export interface ContractDatabase {
  /** Opens (and migrates) a registry on this database; every call is another connection, like another process. */
  open(): Promise<Registry>;
  /** Runs one SQL statement under the contract (what a test must do behind the gateway's back). */
  exec(sql: string): Promise<void>;
  /** Names of the tables in the database. */
  tables(): Promise<string[]>;
  drop(): Promise<void>;
}

/**
 * Inside a contract's describe: `open()` gives a registry on this test's database (created on first use, each call
 * another connection), `database()` the database itself; after each test every registry is closed and it is dropped.
 */
export function perTestDatabase(fresh: () => Promise<ContractDatabase>): { open: () => Promise<Registry>; database: () => ContractDatabase } {
  let db: ContractDatabase | undefined;
  const opened: Registry[] = [];
  afterEach(async () => {
    for (const r of opened.splice(0)) await r.close();
    await db?.drop();
    db = undefined;
  });
  return {
    open: async () => {
      db ??= await fresh();
      const r = await db.open();
      opened.push(r);
      return r;
    },
    database: () => {
      if (db === undefined) throw new Error('database(): open() a registry first');
      return db;
    },
  };
}

export function registryContract(name: string, fresh: () => Promise<ContractDatabase>): void {
  describe(`storage contract: ${name}`, () => {
    const { open, database } = perTestDatabase(fresh);

    const pinset = (r: Registry, seq: number, pins: string[], fleet = 'f') =>
      r.pinsets.insert({
        fleet, seq, envelope: Buffer.alloc(8, seq), sha256: `${fleet}${seq}`.padStart(64, '0'), keysetVersion: 1, notAfter: 4e9, source: 'gateway', createdAt: seq, createdBy: 't',
        json: { format: 1, seq, issuedAt: 1, notAfter: 4e9, keysetVersion: 1, target: { fleet }, hosts: [{ name: 'h.example', includeSubdomains: false, pins, enforce: true }] },
      }) as Promise<PinSetRow>;
    const enrol = (r: Registry, id: string, fleet = 'f', labels: string[] = []) =>
      r.transaction(async (tx) => {
        const isNew = await tx.devices.insert({ id, fleet, deviceClass: 'c', labels, credentialHash: 'x', createdAt: 0 });
        if (isNew) await tx.coverage.reconcile(id);
        return isNew;
      });
    const ack = (deviceId: string, s: PinSetRow, status: string, at = 1000): IngestAck => ({ deviceId, seq: s.seq, sha256: s.sha256, status, code: null, pinsetId: s.id, at });
    const write = (r: Registry, acks: IngestAck[]) => r.ingest.writeBatch({ acks, reports: [], malformed: [], seen: new Map() });
    const pinCounts = async (r: Registry, fleet = 'f') => Object.fromEntries((await r.coverage.pinCounts(fleet)).map((x) => [x.pin, x.count]));
    const sets = async (r: Registry, kind: 'installed' | 'verified', fleet = 'f') =>
      Object.fromEntries((await (kind === 'installed' ? r.coverage.installedSets(fleet) : r.coverage.verifiedSets(fleet))).map((x) => [x.key, x.count]));

    it('migrates an empty database, and opening it again keeps the data', async () => {
      const r = await open();
      const tables = await database().tables();
      for (const t of ['devices', 'pinsets', 'keysets', 'acks', 'pinset_ack_counts', 'reports', 'malformed_counts', 'api_tokens', 'audit_log', 'rollouts', 'rollout_executions', 'coverage_counts', 'fleet_set_counts', 'telemetry_buckets', 'rotations', 'id_counters']) {
        expect(tables).toContain(t);
      }
      expect(await enrol(r, 'd1')).toBe(true);
      const again = await open(); // the migrations run again: nothing to do
      expect((await again.devices.get('d1'))?.fleet).toBe('f');
    });

    it('devices: insert once, get, filters, case-insensitive search and cursor paging', async () => {
      const r = await open();
      for (let i = 0; i < 7; i++) expect(await enrol(r, `dev-${i}`, i < 5 ? 'f' : 'g', i === 3 ? ['Kitchen'] : [])).toBe(true);
      expect(await enrol(r, 'dev-0')).toBe(false);
      const d = await r.devices.get('dev-0');
      expect(d).toMatchObject({ id: 'dev-0', fleet: 'f', labels: [], online: false, decommissioned: false, installedSeq: 0, countedInstalled: 'unknown' });
      await r.devices.setOnline('dev-1', true, 5);
      expect((await r.devices.get('dev-1'))?.online).toBe(true);
      const page1 = await r.devices.list({ fleet: 'f' }, 2);
      expect(page1.items.map((x) => x.id)).toEqual(['dev-0', 'dev-1']);
      const page3 = await r.devices.list({ fleet: 'f' }, 2, (await r.devices.list({ fleet: 'f' }, 2, page1.nextCursor ?? '')).nextCursor ?? '');
      expect(page3).toEqual({ items: [expect.objectContaining({ id: 'dev-4' })], nextCursor: null });
      expect((await r.devices.list({ q: 'kitch' }, 10)).items.map((x) => x.id)).toEqual(['dev-3']);
      expect((await r.devices.list({ q: '%' }, 10)).items).toEqual([]); // LIKE wildcards are literal
      for (const q of ['[', ']', '"', '\\', '","']) expect((await r.devices.list({ q }, 10)).items, q).toEqual([]); // not the labels' JSON (issue 17)
      expect((await r.devices.list({ online: true }, 10)).items.map((x) => x.id)).toEqual(['dev-1']);
      expect(await r.devices.fleets()).toEqual([{ fleet: 'f', devices: 5, online: 1 }, { fleet: 'g', devices: 2, online: 0 }]);
      expect(await r.coverage.fleetSize('g')).toBe(2);
      expect(await r.devices.onlineIds()).toEqual(['dev-1']);
      await r.devices.setAllOffline();
      expect(await r.devices.onlineIds()).toEqual([]);
      expect((await r.devices.directory('g')).map((x) => x.deviceId).sort()).toEqual(['dev-5', 'dev-6']);
      // bulk enrolment: free ids only, counted in the coverage counters at once
      const bulk = ['dev-0', 'bulk-1', 'bulk-2'].map((id) => ({ id, fleet: 'g', deviceClass: 'c', labels: ['x'], credentialHash: 'x', createdAt: 1 }));
      expect(await r.devices.insertMany(bulk)).toBe(2);
      expect(await r.coverage.fleetSize('g')).toBe(4);
      expect((await r.devices.get('bulk-2'))?.labels).toEqual(['x']);
      expect(await r.transaction(async (tx) => tx.devices.insertMany([{ ...bulk[0]!, id: 'bulk-3' }]))).toBe(1);
      expect(await r.coverage.fleetSize('g')).toBe(5);
      await r.devices.flag('dev-2', 'odd', 9);
      await r.devices.flag('dev-2', 'odd', 10);
      expect(await r.devices.get('dev-2')).toMatchObject({ flaggedReason: 'odd', flaggedAt: 10, flagCount: 2 });
      expect((await r.devices.list({ state: 'flagged' }, 10)).items.map((x) => x.id)).toEqual(['dev-2']);
      // the re-hash after a log-in (issue 17) is a compare-and-set: written once, never over a changed hash
      const stored = (await r.devices.get('bulk-1'))!.credentialHash;
      expect(await r.devices.replaceCredentialHash('bulk-1', stored, '$7$101$new')).toBe(true);
      expect(await r.devices.replaceCredentialHash('bulk-1', stored, '$7$101$other')).toBe(false);
      expect((await r.devices.get('bulk-1'))?.credentialHash).toBe('$7$101$new');
      expect(await r.devices.replaceCredentialHash('no-such-device', stored, '$7$101$x')).toBe(false);
    });

    it('devices: getMany reads the ones that exist, assignMany assigns a chunk at once (inside a transaction too)', async () => {
      const r = await open();
      for (const id of ['a1', 'a2', 'a3']) await enrol(r, id);
      const s1 = await pinset(r, 1, [PIN_A, PIN_B]);
      const s2 = await pinset(r, 2, [PIN_B, PIN_C]);
      expect((await r.devices.getMany(['a3', 'nope', 'a1'])).map((d) => d.id).sort()).toEqual(['a1', 'a3']);
      expect(await r.devices.getMany([])).toEqual([]);
      expect((await r.devices.getMany(['a2']))[0]).toEqual(await r.devices.get('a2')); // the same row as get
      await r.devices.assignMany(['a1', 'a3', 'nope'], s1.id, 77);
      await r.devices.assignMany([], s1.id, 78);
      expect((await r.devices.getMany(['a1', 'a2', 'a3'])).map((d) => [d.id, d.assignedPinSetId, d.lastDeliveredAt]).sort()).toEqual([
        ['a1', s1.id, 77],
        ['a2', null, null],
        ['a3', s1.id, 77],
      ]);
      // in a unit of work it commits with the rest, or not at all
      await expect(
        r.transaction(async (tx) => {
          await tx.devices.assignMany(['a1', 'a2'], s2.id, 90);
          throw new Error('roll back');
        }),
      ).rejects.toThrow('roll back');
      expect((await r.devices.get('a2'))?.assignedPinSetId).toBeNull();
      await r.transaction((tx) => tx.devices.assignMany(['a2', 'a1'], s2.id, 91));
      expect((await r.devices.getMany(['a1', 'a2'])).map((d) => d.assignedPinSetId)).toEqual([s2.id, s2.id]);
    });

    it('pin sets: unique (fleet, seq) and bytes, newest first, release', async () => {
      const r = await open();
      const s1 = await pinset(r, 1, [PIN_A, PIN_B]);
      expect(s1.id).toBeGreaterThan(0);
      expect(await pinset(r, 1, [PIN_A])).toBeUndefined(); // same (fleet, seq) and bytes
      const s2 = await pinset(r, 2, [PIN_B, PIN_C]);
      await pinset(r, 7, [PIN_A], 'other');
      expect((await r.pinsets.get(s1.id))?.envelope.equals(Buffer.alloc(8, 1))).toBe(true);
      expect((await r.pinsets.getBySha256(s2.sha256))?.json).toEqual(s2.json);
      expect((await r.pinsets.getByFleetSeq('f', 2))?.id).toBe(s2.id);
      expect(await r.pinsets.maxSeq('f')).toBe(2);
      expect(await r.pinsets.maxSeq('none')).toBe(0);
      expect((await r.pinsets.list('f')).map((p) => p.seq)).toEqual([2, 1]);
      expect([...(await r.pinsets.latestSeqByFleet())].sort()).toEqual([['f', 2], ['other', 7]]);
      expect(await r.pinsets.latestReleasedFor('f')).toBeUndefined();
      await r.pinsets.markReleased(s1.id, 50);
      await r.pinsets.markReleased(s1.id, 60); // the first release time stays
      expect((await r.pinsets.latestReleasedFor('f'))?.releasedAt).toBe(50);
    });

    it('keysets, tokens and rotations', async () => {
      const r = await open();
      await r.keysets.insert({ version: 1, publicKeys: ['aa', 'bb'], envelope: null, createdAt: 1, createdBy: 'g' });
      await r.keysets.insert({ version: 2, publicKeys: ['cc', 'dd'], envelope: Buffer.from([1, 2]), createdAt: 2, createdBy: 'g' });
      expect((await r.keysets.current())?.version).toBe(2);
      expect((await r.keysets.newerThan(1)).map((k) => [k.version, k.envelope?.length])).toEqual([[2, 2]]);
      expect(await r.tokens.insert('ops', 'operator', 'h1', 'admin', 1)).toBe(true);
      expect(await r.tokens.insert('ops', 'viewer', 'h2', 'admin', 1)).toBe(false);
      expect(await r.tokens.lookup('h1')).toEqual({ name: 'ops', role: 'operator', expiresAt: null });
      await r.tokens.upsert('admin', 'admin', 'h3', 1);
      await r.tokens.upsert('admin', 'admin', 'h4', 2);
      expect(await r.tokens.lookup('h3')).toBeNull();
      expect(await r.tokens.lookup('h4')).toEqual({ name: 'admin', role: 'admin', expiresAt: null });
      const base = { fleet: 'f', host: 'h', pin: PIN_A, reason: null, coverage: 9500, target: 9500, atRisk: 0, recordedAt: 1, recordedBy: 'ops' };
      const a = await r.rotations.insert({ ...base, forced: false });
      const b = await r.rotations.insert({ ...base, forced: true, reason: 'incident' });
      expect(b.id).toBeGreaterThan(a.id);
      expect((await r.rotations.list({ fleet: 'f' }, 10)).map((x) => [x.id, x.forced, x.reason])).toEqual([[b.id, true, 'incident'], [a.id, false, null]]);
    });

    it('token lifecycle (issue 17): expiry stored, listing without secrets, revocation at once, last use', async () => {
      const r = await open();
      const other = await open(); // another process on the same database
      expect(await r.tokens.insert('ci', 'publisher', 'hc', 'admin', 10, 5_000)).toBe(true);
      expect(await r.tokens.insert('ops', 'operator', 'ho', 'admin', 11)).toBe(true);
      expect(await r.tokens.lookup('hc')).toEqual({ name: 'ci', role: 'publisher', expiresAt: 5_000 });
      expect(await other.tokens.lookup('ho')).toEqual({ name: 'ops', role: 'operator', expiresAt: null }); // cached there now
      await r.tokens.touch('ops', 40);
      await r.tokens.touch('ops', 50);
      const listed = await r.tokens.list();
      expect(listed).toEqual([
        { name: 'ci', role: 'publisher', createdAt: 10, createdBy: 'admin', expiresAt: 5_000, revokedAt: null, lastUsedAt: null },
        { name: 'ops', role: 'operator', createdAt: 11, createdBy: 'admin', expiresAt: null, revokedAt: null, lastUsedAt: 50 },
      ]);
      expect(JSON.stringify(listed)).not.toContain('ho');
      expect(await r.tokens.revoke('ops', 60)).toBe(true);
      expect(await r.tokens.revoke('ops', 70)).toBe(true); // idempotent: the first revocation time stays
      expect(await r.tokens.revoke('nobody', 70)).toBe(false);
      expect(await r.tokens.lookup('ho')).toBeNull();
      expect((await r.tokens.list()).find((t) => t.name === 'ops')?.revokedAt).toBe(60);
      expect(await r.tokens.lookup('hc')).not.toBeNull(); // revoking one leaves the others
      // the admin token file: a restart with the same hash keeps the revocation, a rotated file clears it
      await r.tokens.upsert('admin', 'admin', 'ha', 1);
      await r.tokens.revoke('admin', 80);
      await r.tokens.upsert('admin', 'admin', 'ha', 2);
      expect(await r.tokens.lookup('ha')).toBeNull();
      await r.tokens.upsert('admin', 'admin', 'hb', 3);
      expect(await r.tokens.lookup('hb')).toEqual({ name: 'admin', role: 'admin', expiresAt: null });
    });

    it('audit log: newest first with a cursor, and append-only (UPDATE and DELETE refused)', async () => {
      const r = await open();
      for (let i = 0; i < 5; i++) await r.audit.append('ops', 'act', `t${i}`, { i });
      const p1 = await r.audit.list(3);
      expect(p1.items.map((e) => e.target)).toEqual(['t4', 't3', 't2']);
      expect(p1.items[0]?.detail).toEqual({ i: 4 });
      const p2 = await r.audit.list(3, Number(p1.nextCursor));
      expect(p2).toMatchObject({ items: [{ target: 't1' }, { target: 't0' }], nextCursor: null });
      await expect(database().exec(`update audit_log set actor = 'mallory'`)).rejects.toThrow(/append-only/);
      await expect(database().exec(`delete from audit_log`)).rejects.toThrow(/append-only/);
      expect((await r.audit.list(10)).items.map((e) => e.actor)).toEqual(Array(5).fill('ops'));
    });

    it('a transaction commits together or not at all', async () => {
      const r = await open();
      await expect(
        r.transaction(async (tx) => {
          await tx.devices.insert({ id: 'gone', fleet: 'f', deviceClass: 'c', labels: [], credentialHash: 'x', createdAt: 0 });
          await tx.coverage.reconcile('gone');
          throw new Error('changed my mind');
        }),
      ).rejects.toThrow('changed my mind');
      expect(await r.devices.get('gone')).toBeUndefined();
      expect(await r.coverage.fleetSize('f')).toBe(0);
      // statements outside the transaction still run while it is open, and are not rolled back with it
      let release = () => {};
      const held = new Promise<void>((ok) => (release = ok));
      const tx = r.transaction(async (t) => {
        await t.audit.append('tx', 'inside', null);
        await held;
        throw new Error('rollback');
      });
      const outside = r.audit.append('root', 'outside', null);
      setTimeout(release, 20);
      await expect(tx).rejects.toThrow('rollback');
      await outside;
      expect((await r.audit.list(10)).items.map((e) => e.action)).toEqual(['outside']);
    });

    it('rollout ids are unique with several writers, and a rollout round-trips', async () => {
      const r = await open();
      const other = await open();
      const ids = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? r : other).rollouts.nextId()));
      expect(new Set(ids).size).toBe(20);
      expect(ids.map((x) => Number(x.slice(1))).sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
      const s1 = await pinset(r, 1, [PIN_A, PIN_B]);
      await enrol(r, 'd1');
      const created = createRollout({ id: await r.rollouts.nextId(), fleet: 'f', seq: 1, target: {}, config: {}, now: 100 });
      if (!created.ok) throw new Error(created.errors.join());
      await r.rollouts.insert({ snapshot: created.rollout, pinsetId: s1.id, warnings: ['w'], createdBy: 'ops' });
      const row = await r.rollouts.get(created.rollout.id);
      expect(row).toMatchObject({ id: 'r21', fleet: 'f', seq: 1, state: 'DRAFT', warnings: ['w'], lastGate: null, createdBy: 'ops' });
      expect(row?.snapshot).toEqual(created.rollout);
      expect(await r.rollouts.ownsPinSet(s1.id)).toBe(true);
      const exec: ExecutionRecord = { rolloutId: 'r21', deviceId: 'd1', wave: 0, enrolledAt: 100, state: queued(100) };
      const waveCount = created.rollout.plan.waves.length;
      const running = { ...created.rollout, state: { kind: 'RUNNING' as const, wave: 0, waveCount, since: 100, soakStartedAt: null } };
      await r.rollouts.save(running, [exec], 200, { at: 200, decision: { kind: 'hold' } });
      expect((await r.rollouts.get('r21'))?.lastGate).toEqual({ at: 200, decision: { kind: 'hold' } });
      expect(await r.rollouts.executions('r21')).toEqual([exec]);
      expect((await r.rollouts.summary('r21')).byKind.QUEUED).toBe(1);
      expect((await r.rollouts.active()).map((x) => x.id)).toEqual(['r21']);
      expect((await r.rollouts.list({ fleet: 'f' })).map((x) => x.id)).toEqual(['r21']);
      await write(r, [ack('d1', s1, 'applied', 150), ack('d1', s1, 'verified', 250)]);
      expect(await r.rollouts.acksSince('d1', s1.sha256, 200)).toEqual([{ status: 'verified', code: null }]);
    });

    it('coverage: enrolment counts unknown, hello none, verified acks move the pin counters; decommission leaves', async () => {
      const r = await open();
      const s1 = await pinset(r, 1, [PIN_A, PIN_B]);
      const s2 = await pinset(r, 2, [PIN_B, PIN_C]);
      await enrol(r, 'd1');
      await enrol(r, 'd2');
      expect(await sets(r, 'installed')).toEqual({ unknown: 2 });
      await r.transaction(async (tx) => {
        await tx.devices.applyHello('d1', { firmware: '1', installedSeq: 0, installedSha256: null, keysetVersion: 1, at: 1 });
        await tx.coverage.reconcile('d1');
      });
      expect(await sets(r, 'installed')).toEqual({ unknown: 1, none: 1 });
      await write(r, [ack('d1', s1, 'applied')]);
      expect(await pinCounts(r)).toEqual({}); // applied, not verified: covered by nothing
      expect((await write(r, [ack('d1', s1, 'verified'), ack('d1', s1, 'verified')])).acks).toEqual([true, false]);
      expect(await pinCounts(r)).toEqual({ [PIN_A]: 1, [PIN_B]: 1 });
      await write(r, [ack('d1', s2, 'applied')]); // a newer applied set uncovers the old one until verified
      expect(await pinCounts(r)).toEqual({ [PIN_A]: 0, [PIN_B]: 0 });
      await write(r, [ack('d1', s2, 'verified'), ack('d2', s1, 'verified')]);
      expect(await pinCounts(r)).toEqual({ [PIN_A]: 1, [PIN_B]: 2, [PIN_C]: 1 });
      expect(await sets(r, 'verified')).toEqual({ [s1.sha256]: 1, [s2.sha256]: 1 });
      expect(await r.pinsets.ackCounts(s1.id)).toEqual({ applied: 1, verified: 2 });
      await r.transaction(async (tx) => {
        await tx.devices.setDecommissioned('d1');
        await tx.coverage.reconcile('d1');
      });
      expect(await pinCounts(r)).toEqual({ [PIN_A]: 1, [PIN_B]: 1, [PIN_C]: 0 });
      expect(await r.coverage.fleetSize('f')).toBe(1);
      const withKeys = await r.devices.withInstalledKeys('f', [s1.sha256, 'unknown'], '', 10);
      expect(withKeys).toEqual([{ id: 'd2', online: false, installedSeq: 1, countedInstalled: s1.sha256 }]);
      // paging over two keys: ids ascending across both, from after the cursor
      for (const id of ['a0', 'd1x', 'e9']) await enrol(r, id);
      const keys = [s1.sha256, 'unknown'];
      expect((await r.devices.withInstalledKeys('f', keys, '', 2)).map((x) => x.id)).toEqual(['a0', 'd1x']);
      expect((await r.devices.withInstalledKeys('f', keys, 'd1x', 2)).map((x) => x.id)).toEqual(['d2', 'e9']);
      expect(await r.devices.withInstalledKeys('f', keys, 'e9', 2)).toEqual([]);
      // reversible (issue 18): recommissioned, the device counts again for the set it verified
      await r.transaction(async (tx) => {
        await tx.devices.setRecommissioned('d1');
        await tx.coverage.reconcile('d1');
      });
      expect(await pinCounts(r)).toEqual({ [PIN_A]: 1, [PIN_B]: 2, [PIN_C]: 1 });
      expect(await r.coverage.fleetSize('f')).toBe(5); // d1, d2 and the three enrolled for paging
      expect((await r.devices.get('d1'))?.decommissioned).toBe(false);
    });

    it('webhooks: registrations keep events, watches and secret; dead letters newest first; deletes say whether they did', async () => {
      const r = await open();
      const rotations = [{ fleet: 'f', host: 'h.example', pin: PIN_A, target: 95 }];
      const w = await r.webhooks.insert({ url: 'https://x.example/h', events: ['rotation.ready', 'ping'], rotations, secret: 'whsec_1', description: 'd', createdAt: 5, createdBy: 'admin' });
      expect(w.id).toBeGreaterThan(0);
      expect(await r.webhooks.list()).toEqual([w]);
      expect(await r.webhooks.get(w.id)).toEqual(w);
      const letter = { webhookId: w.id, deliveryId: 'u1', eventType: 'ping', url: w.url, payload: '{"a":1}', attempts: 3, lastError: 'HTTP 500' };
      const d1 = await r.webhooks.addDeadLetter({ ...letter, failedAt: 10 });
      const d2 = await r.webhooks.addDeadLetter({ ...letter, deliveryId: 'u2', failedAt: 20 });
      expect((await r.webhooks.deadLetters(10)).map((d) => d.deliveryId)).toEqual(['u2', 'u1']);
      expect(await r.webhooks.deadLetter(d1)).toEqual({ ...letter, id: d1, failedAt: 10 });
      expect(await r.webhooks.deleteDeadLetter(d2)).toBe(true);
      expect(await r.webhooks.deleteDeadLetter(d2)).toBe(false);
      expect(await r.webhooks.delete(w.id)).toBe(true);
      expect(await r.webhooks.delete(w.id)).toBe(false);
      expect(await r.webhooks.get(w.id)).toBeUndefined();
      expect(await r.webhooks.deadLetters(10)).toHaveLength(1); // dead letters outlive their webhook
    });

    it('ack ingest is idempotent under concurrent writers: two connections writing the same acks count each once', async () => {
      const a = await open();
      const b = await open();
      const s1 = await pinset(a, 1, [PIN_A, PIN_B]);
      for (let i = 0; i < 40; i++) await enrol(a, `d${i}`);
      const acks = Array.from({ length: 40 }, (_, i) => [ack(`d${i}`, s1, 'applied'), ack(`d${i}`, s1, 'verified')]).flat();
      const batches = [0, 1, 2, 3].map((k) => acks.slice(k * 20, k * 20 + 20));
      const results = await Promise.all([...batches.map((x) => write(a, x)), ...batches.map((x) => write(b, [...x].reverse()))]);
      // every ack is new on exactly one of the two connections
      const fromA = results.slice(0, 4).flatMap((x) => x.acks);
      const fromB = results.slice(4).flatMap((x, k) => [...x.acks].reverse().map((v, j) => ({ k, j, v })));
      fromB.forEach(({ k, j, v }) => expect(v).toBe(!(fromA[k * 20 + j] as boolean)));
      expect(await a.pinsets.ackCounts(s1.id)).toEqual({ applied: 40, verified: 40 });
      expect(await pinCounts(b)).toEqual({ [PIN_A]: 40, [PIN_B]: 40 });
      expect(await sets(a, 'installed')).toEqual({ [s1.sha256]: 40 });
    });

    it('counters are right after 10,000 mixed acks (they equal a recount from the rows)', async () => {
      const r = await open();
      const s = [await pinset(r, 1, [PIN_A, PIN_B]), await pinset(r, 2, [PIN_B, PIN_C]), await pinset(r, 3, [PIN_C, PIN_A])];
      const N = 400;
      for (let i = 0; i < N; i += 50) {
        await r.transaction(async (tx) => {
          for (let j = i; j < i + 50; j++) {
            await tx.devices.insert({ id: `m${j}`, fleet: 'f', deviceClass: 'c', labels: [], credentialHash: 'x', createdAt: 0 });
            await tx.coverage.reconcile(`m${j}`);
          }
        });
      }
      let seed = 42;
      const rand = (n: number) => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0), seed % n);
      const statuses = ['applied', 'verified', 'verified', 'rejected'];
      const expected = new Set<string>();
      const writer = new IngestWriter(r.ingest, { now: () => 1000 }, { flushMs: 1, maxRows: 500 });
      const pending: Promise<boolean>[] = [];
      for (let i = 0; i < 10_000; i++) {
        const d = `m${rand(N)}`;
        const set = s[rand(3)] as PinSetRow;
        const status = statuses[rand(4)] as string;
        expected.add(`${set.id}/${status}/${d}`);
        pending.push(writer.addAck({ deviceId: d, seq: set.seq, sha256: set.sha256, status, code: status === 'rejected' ? 'E_SIG' : null, pinsetId: set.id }));
      }
      const news = await Promise.all(pending);
      await writer.close();
      expect(news.filter(Boolean).length).toBe(expected.size); // each (device, set, status) new once
      for (const set of s) {
        const want: Record<string, number> = {};
        for (const k of expected) if (k.startsWith(`${set.id}/`)) want[k.split('/')[1] as string] = (want[k.split('/')[1] as string] ?? 0) + 1;
        expect(await r.pinsets.ackCounts(set.id)).toEqual(want);
      }
      const before = { pins: await pinCounts(r), installed: await sets(r, 'installed'), verified: await sets(r, 'verified') };
      expect(Object.values(before.installed).reduce((a, b) => a + b, 0)).toBe(N);
      // wipe the counters and rebuild them from the device rows: the same numbers
      await database().exec(`delete from coverage_counts`);
      await database().exec(`delete from fleet_set_counts`);
      await database().exec(`update devices set counted_installed = null, counted_verified = null`);
      expect(await r.coverage.reconcilePending()).toBe(N);
      const nonZero = (o: Record<string, number>) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== 0));
      expect(nonZero(await pinCounts(r))).toEqual(nonZero(before.pins));
      expect(await sets(r, 'installed')).toEqual(before.installed);
      expect(await sets(r, 'verified')).toEqual(before.verified);
    });

    it('telemetry buckets count each new report once, per fleet, host and minute; reports and malformed counts', async () => {
      const r = await open();
      await enrol(r, 'd2');
      const report = (deviceTime: number, result: string) => ({ deviceId: 'd2', host: 'h.example', port: 443, result, servedPins: [PIN_A], installedSeq: 1, deviceTime, at: 120_000 });
      const res = await r.ingest.writeBatch({
        acks: [],
        reports: [report(1, 'ok'), report(1, 'ok'), report(2, 'mismatch'), report(3, 'fail-open')],
        malformed: [{ deviceId: 'd2', kind: 'hello', code: 'E_CBOR', count: 2, lastAt: 5, lastDetail: 'bad' }],
        seen: new Map([['d2', 777]]),
      });
      expect(res.reports).toEqual([true, false, true, true]);
      await r.ingest.writeBatch({ acks: [], reports: [], malformed: [{ deviceId: 'd2', kind: 'hello', code: 'E_CBOR', count: 1, lastAt: 6, lastDetail: 'worse' }], seen: new Map() });
      expect(await r.telemetry.series({ fleet: 'f', bucketMs: 60_000, sinceMs: 0 })).toEqual([{ t: 120_000, ok: 1, mismatch: 1, failOpen: 1 }]);
      expect(await r.telemetry.series({ fleet: 'f', host: 'other', bucketMs: 60_000, sinceMs: 0 })).toEqual([]);
      expect((await r.telemetry.lastReports({ fleet: 'f', limit: 2 })).map((x) => [x.result, x.fleet, x.servedPins])).toEqual([['fail-open', 'f', [PIN_A]], ['mismatch', 'f', [PIN_A]]]);
      expect(await r.devices.malformedCounts('d2')).toEqual([{ kind: 'hello', code: 'E_CBOR', count: 3, lastAt: 6, lastDetail: 'worse' }]);
      expect((await r.devices.get('d2'))?.lastSeen).toBe(777);
      expect((await r.devices.history('d2', 10)).reports.map((x) => x.deviceTime)).toEqual([3, 2, 1]);
    });
  });
}
