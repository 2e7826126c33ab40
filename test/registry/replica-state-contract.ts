/**
 * The storage contract for the state that used to live in one replica's memory (issue 13, docs/scale.md
 * "Replicas"): the drift/CT findings and the webhook outbox. Run on a real SQLite file and a real PostgreSQL 15
 * (sqlite.test.ts, postgres.test.ts), an empty, freshly migrated database per test. Two registries opened on the
 * same database stand for two replicas.
 */
import { describe, expect, it } from 'vitest';
import type { FindingInput } from '../../gateway/registry/finding-repo';
import type { Registry } from '../../gateway/registry/registry';
import { perTestDatabase, type ContractDatabase } from './registry-contract';

const DAY = 24 * 3600_000;
const RETAIN = 30 * DAY;

const finding = (key: string, extra: Partial<FindingInput> = {}): FindingInput => ({
  key, source: 'drift', kind: 'drift-unpinned', severity: 'critical', fleet: 'f', host: 'api.example', summary: `s ${key}`, detail: { key, n: 1 }, ...extra,
});

export function replicaStateContract(name: string, fresh: () => Promise<ContractDatabase>): void {
  describe(`storage contract, findings and webhook outbox: ${name}`, () => {
    const { open, database } = perTestDatabase(fresh);

    it('migrations create findings, watch_runs and webhook_outbox, empty', async () => {
      const r = await open();
      expect(await database().tables()).toEqual(expect.arrayContaining(['findings', 'watch_runs', 'ct_log_states', 'webhook_outbox']));
      expect(await r.findings.list({}, 10)).toEqual({ open: [], resolved: [] });
      expect(await r.webhookOutbox.pending()).toEqual({ count: 0, nextDueAt: null });
    });

    it('findings: a run raises new keys, refreshes the ones seen again (firstSeenAt kept) and resolves the ones gone; another replica sees the same', async () => {
      const a = await open();
      const b = await open();
      const first = await a.findings.replace('drift', { findings: [finding('k1'), finding('k2', { severity: 'warning', kind: 'drift-low-coverage' })], now: 1000, retainResolvedMs: RETAIN });
      expect(first.raised.map((f) => f.key)).toEqual(['k1', 'k2']);
      expect(first).toMatchObject({ cleared: [], open: 2 });
      // the next run, on "another replica" (a new leader): k1 seen again with a new summary, k2 gone, k3 new
      const second = await b.findings.replace('drift', { findings: [finding('k1', { summary: 'changed' }), finding('k3')], now: 2000, retainResolvedMs: RETAIN });
      expect(second.raised.map((f) => f.key)).toEqual(['k3']); // k1 is not raised again: the dedupe key
      expect(second.cleared.map((f) => [f.key, f.resolvedAt])).toEqual([['k2', 2000]]);
      expect(second.open).toBe(2);
      const listed = await a.findings.list({}, 10);
      expect(listed.open.map((f) => [f.key, f.firstSeenAt, f.lastSeenAt, f.summary])).toEqual([['k1', 1000, 2000, 'changed'], ['k3', 2000, 2000, 's k3']]);
      expect(listed.resolved).toEqual([
        { ...finding('k2', { severity: 'warning', kind: 'drift-low-coverage' }), firstSeenAt: 1000, lastSeenAt: 1000, resolvedAt: 2000, acknowledgedAt: null, acknowledgedBy: null },
      ]);
      // a run of the other source leaves drift's findings alone
      expect(await b.findings.replace('ct', { findings: [], now: 3000, retainResolvedMs: RETAIN })).toEqual({ raised: [], cleared: [], open: 0 });
      expect((await b.findings.list({ source: 'drift' }, 10)).open).toHaveLength(2);
    });

    it('findings: a key that comes back after it resolved opens a new row; the resolved one stays in the history', async () => {
      const r = await open();
      await r.findings.replace('drift', { findings: [finding('k')], now: 1000, retainResolvedMs: RETAIN });
      await r.findings.replace('drift', { findings: [], now: 2000, retainResolvedMs: RETAIN });
      const again = await r.findings.replace('drift', { findings: [finding('k')], now: 3000, retainResolvedMs: RETAIN });
      expect(again.raised.map((f) => [f.key, f.firstSeenAt])).toEqual([['k', 3000]]);
      const l = await r.findings.list({}, 10);
      expect(l.open.map((f) => f.firstSeenAt)).toEqual([3000]);
      expect(l.resolved.map((f) => [f.firstSeenAt, f.resolvedAt])).toEqual([[1000, 2000]]);
    });

    it('findings: keep leaves open findings the run could not judge; resolved ones older than the retention are deleted', async () => {
      const r = await open();
      await r.findings.replace('ct', { findings: [finding('c1', { source: 'ct', kind: 'ct-unpinned' }), finding('c2', { source: 'ct', kind: 'ct-unpinned' })], now: 1000, retainResolvedMs: RETAIN });
      const kept = await r.findings.replace('ct', { findings: [], now: 2000, retainResolvedMs: RETAIN, keep: (f) => f.key === 'c1' });
      expect(kept.cleared.map((f) => f.key)).toEqual(['c2']);
      expect((await r.findings.list({}, 10)).open.map((f) => [f.key, f.lastSeenAt])).toEqual([['c1', 1000]]);
      // 30 days after c2 resolved it is still listed; a day later the next run deletes it
      await r.findings.replace('ct', { findings: [finding('c1', { source: 'ct', kind: 'ct-unpinned' })], now: 2000 + RETAIN, retainResolvedMs: RETAIN });
      expect((await r.findings.list({}, 10)).resolved.map((f) => f.key)).toEqual(['c2']);
      await r.findings.replace('ct', { findings: [finding('c1', { source: 'ct', kind: 'ct-unpinned' })], now: 2001 + RETAIN, retainResolvedMs: RETAIN });
      expect((await r.findings.list({}, 10)).resolved).toEqual([]);
    });

    it('findings: list filters by source, fleet and host; open critical first; resolved newest first, limited', async () => {
      const r = await open();
      await r.findings.replace('drift', {
        findings: [finding('w', { severity: 'warning', kind: 'drift-low-coverage' }), finding('c', { fleet: 'g', host: 'b.example' })],
        now: 1000, retainResolvedMs: RETAIN,
      });
      await r.findings.replace('ct', { findings: [finding('t', { source: 'ct', kind: 'ct-unpinned', severity: 'warning', fleet: null })], now: 500, retainResolvedMs: RETAIN });
      expect((await r.findings.list({}, 10)).open.map((f) => f.key)).toEqual(['c', 't', 'w']);
      expect((await r.findings.list({ source: 'ct' }, 10)).open.map((f) => f.key)).toEqual(['t']);
      expect((await r.findings.list({ fleet: 'g' }, 10)).open.map((f) => f.key)).toEqual(['c']);
      expect((await r.findings.list({ host: 'B.Example' }, 10)).open.map((f) => f.key)).toEqual(['c']);
      await r.findings.replace('drift', { findings: [], now: 2000, retainResolvedMs: RETAIN });
      expect((await r.findings.list({ source: 'drift' }, 1)).resolved).toHaveLength(1);
      expect((await r.findings.list({ source: 'drift' }, 10)).resolved).toHaveLength(2);
    });

    it('findings: an acknowledgement on one replica is seen on the other; the first one is kept; a resolved or unknown key is refused', async () => {
      const a = await open();
      const b = await open();
      await a.findings.replace('drift', { findings: [finding('k')], now: 1000, retainResolvedMs: RETAIN });
      expect(await b.findings.acknowledge('k', 'ops', 1500)).toMatchObject({ key: 'k', acknowledgedAt: 1500, acknowledgedBy: 'ops', resolvedAt: null });
      expect(await a.findings.acknowledge('k', 'other', 1600)).toMatchObject({ acknowledgedAt: 1500, acknowledgedBy: 'ops' });
      expect((await a.findings.list({}, 10)).open[0]).toMatchObject({ acknowledgedAt: 1500, acknowledgedBy: 'ops' });
      // seen again by the next run: still acknowledged
      await a.findings.replace('drift', { findings: [finding('k')], now: 2000, retainResolvedMs: RETAIN });
      expect((await b.findings.list({}, 10)).open[0]).toMatchObject({ lastSeenAt: 2000, acknowledgedBy: 'ops' });
      expect(await a.findings.acknowledge('nope', 'ops', 2000)).toBeUndefined();
      await a.findings.replace('drift', { findings: [], now: 3000, retainResolvedMs: RETAIN });
      expect(await a.findings.acknowledge('k', 'ops', 3000)).toBeUndefined();
    });

    it('findings: two runs at once on two replicas raise each finding once', async () => {
      const a = await open();
      const b = await open();
      const fs = Array.from({ length: 20 }, (_, i) => finding(`k${i}`));
      const [x, y] = await Promise.all([
        a.findings.replace('drift', { findings: fs, now: 1000, retainResolvedMs: RETAIN }),
        b.findings.replace('drift', { findings: fs, now: 1000, retainResolvedMs: RETAIN }),
      ]);
      expect(x.raised.length + y.raised.length).toBe(20);
      expect((await a.findings.list({}, 10)).open).toHaveLength(20);
    });

    it('watch runs: the last run of each watch is kept for every replica; an older run never replaces a newer one', async () => {
      const a = await open();
      const b = await open();
      expect(await a.findings.lastRuns()).toEqual({});
      await a.findings.recordRun('drift', '{"endedAt":2000}', 2000);
      await b.findings.recordRun('ct', '{"endedAt":1500}', 1500);
      expect(await b.findings.lastRuns()).toEqual({ drift: '{"endedAt":2000}', ct: '{"endedAt":1500}' });
      await b.findings.recordRun('drift', '{"endedAt":1000}', 1000); // a slow run on another replica that ended before
      await b.findings.recordRun('ct', '{"endedAt":3000}', 3000);
      expect(await a.findings.lastRuns()).toEqual({ drift: '{"endedAt":2000}', ct: '{"endedAt":3000}' });
    });

    it('CT log progress: saved per log, read by every replica; a smaller tree never replaces a larger one', async () => {
      const a = await open();
      const b = await open();
      expect(await a.ctLogs.list()).toEqual([]);
      const row = (log: string, treeSize: number) => ({ log, treeSize, root: `r${treeSize}`, frontier: `{"size":${treeSize}}`, certificates: '[]', updatedAt: treeSize * 10 });
      await a.ctLogs.save(row('https://log-a/', 100));
      await b.ctLogs.save(row('https://log-b/', 7));
      expect(await b.ctLogs.list()).toEqual([row('https://log-a/', 100), row('https://log-b/', 7)]);
      await b.ctLogs.save(row('https://log-a/', 90)); // a slower run on another replica that believed less
      await b.ctLogs.save(row('https://log-b/', 8));
      expect(await a.ctLogs.list()).toEqual([row('https://log-a/', 100), row('https://log-b/', 8)]);
    });

    const hook = (r: Registry, url = 'https://x.example/h') => r.webhooks.insert({ url, events: ['ping'], rotations: [], secret: 'whsec_1', description: '', createdAt: 1, createdBy: 'admin' });
    const delivery = (webhookId: number, deliveryId: string, nextAt = 1000) => ({ deliveryId, webhookId, eventType: 'ping', payload: `{"id":"${deliveryId}"}`, nextAt, createdAt: nextAt });

    it('outbox: enqueue keeps a delivery id once; claim takes due rows with the URL and secret, counts the attempt, and leases them', async () => {
      const r = await open();
      const w = await hook(r);
      expect(await r.webhookOutbox.enqueue([delivery(w.id, 'd1'), delivery(w.id, 'd2', 1500), delivery(w.id, 'd3', 5000)])).toBe(3);
      expect(await r.webhookOutbox.enqueue([delivery(w.id, 'd1')])).toBe(0);
      expect(await r.webhookOutbox.pending()).toEqual({ count: 3, nextDueAt: 1000 });
      const claims = await r.webhookOutbox.claim('A', 2000, 10_000, 10);
      expect(claims.map((c) => [c.deliveryId, c.attempts, c.leaseUntil, c.url, c.secret])).toEqual([
        ['d1', 1, 12_000, w.url, 'whsec_1'],
        ['d2', 1, 12_000, w.url, 'whsec_1'],
      ]);
      expect(claims[0]).toMatchObject({ webhookId: w.id, eventType: 'ping', payload: '{"id":"d1"}', lastError: '' });
      // leased: nobody claims them again until the lease ran out (d3 is not due yet)
      expect(await r.webhookOutbox.claim('B', 3000, 10_000, 10)).toEqual([]);
      expect((await r.webhookOutbox.claim('B', 12_000, 10_000, 10)).map((c) => [c.deliveryId, c.attempts])).toEqual([['d1', 2], ['d2', 2], ['d3', 1]]);
      // A's lease ran out and B took them: A can no longer complete, retry or dead-letter them
      const d1 = claims[0]!.id;
      expect(await r.webhookOutbox.complete(d1, 'A')).toBe(false);
      expect(await r.webhookOutbox.retry(d1, 'A', 20_000, 'x')).toBe(false);
      expect(await r.webhookOutbox.deadLetter(d1, 'A', w.url, 'x', 13_000)).toBeNull();
      expect(await r.webhookOutbox.complete(d1, 'B')).toBe(true);
      expect((await r.webhookOutbox.pending()).count).toBe(2);
    });

    it('outbox: retry frees the lease until the next attempt; deadLetter moves the row to the dead letters; a removed webhook is claimed without URL', async () => {
      const r = await open();
      const w = await hook(r);
      await r.webhookOutbox.enqueue([delivery(w.id, 'd1')]);
      const [c] = await r.webhookOutbox.claim('A', 1000, 10_000, 1);
      expect(await r.webhookOutbox.retry(c!.id, 'A', 1200, 'HTTP 500')).toBe(true);
      expect(await r.webhookOutbox.claim('B', 1199, 10_000, 1)).toEqual([]);
      // due again: any replica takes it (here B: A died), with the same delivery id and the last error
      const [again] = await r.webhookOutbox.claim('B', 1200, 10_000, 1);
      expect(again).toMatchObject({ id: c!.id, deliveryId: 'd1', attempts: 2, lastError: 'HTTP 500' });
      const letter = await r.webhookOutbox.deadLetter(again!.id, 'B', w.url, 'HTTP 503', 1300);
      expect(letter).not.toBeNull();
      expect(await r.webhooks.deadLetter(letter!)).toEqual({ id: letter, webhookId: w.id, deliveryId: 'd1', eventType: 'ping', url: w.url, payload: '{"id":"d1"}', attempts: 2, lastError: 'HTTP 503', failedAt: 1300 });
      expect(await r.webhookOutbox.pending()).toEqual({ count: 0, nextDueAt: null });

      const gone = await hook(r, 'https://gone.example/h');
      await r.webhookOutbox.enqueue([delivery(gone.id, 'd2')]);
      await r.webhooks.delete(gone.id);
      expect(await r.webhookOutbox.claim('A', 2000, 10_000, 5)).toMatchObject([{ deliveryId: 'd2', url: null, secret: null }]);
    });

    it('outbox: workers of several replicas racing never claim the same row', async () => {
      const rs = [await open(), await open(), await open()];
      const w = await hook(rs[0]!);
      await rs[0]!.webhookOutbox.enqueue(Array.from({ length: 30 }, (_, i) => delivery(w.id, `d${i}`)));
      const claimed = (await Promise.all(rs.flatMap((r, i) => [0, 1, 2].map(() => r.webhookOutbox.claim(`R${i}`, 2000, 10_000, 4))))).flat();
      const ids = claimed.map((c) => c.deliveryId);
      expect(new Set(ids).size).toBe(ids.length);
      expect(ids.length).toBeGreaterThan(0);
      expect(claimed.every((c) => c.attempts === 1)).toBe(true);
    });
  });
}
