/**
 * Issue 13: CT findings and each log's progress are recorded in the registry, so a gateway that starts again (or a
 * replica that starts leading) continues the watch: it answers the saved certificates at once, its first run goes on
 * from the saved frontier and refreshes the recorded findings instead of raising them again, and a run that cannot
 * follow the log leaves them open instead of clearing them.
 * Real RFC 6962 log (test/support/ct-log.ts), real gateway restarts on one SQLite file.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { TestCtLog, TestPki } from '../support/ct-log';
import { FAST_CONFIG, startFixture, type Fixture } from '../rollout-driver/helpers/rollout-fixture';
import { PIN_B } from '../rollout-driver/helpers/sim-device';

const HOST = 'api.example.com';
interface Open {
  key: string;
  kind: string;
  firstSeenAt: number;
  lastSeenAt: number;
}

describe('CT watch across restarts', () => {
  let f: Fixture | null = null;
  let log: TestCtLog | null = null;
  afterEach(async () => {
    await f?.close();
    f = null;
    await log?.stop();
    log = null;
  });

  it('a new process refreshes the recorded findings (not raised again); one that cannot follow the log keeps them open', async () => {
    const pki = new TestPki();
    const pinned = pki.leaf([HOST], '2001');
    const unpinned = pki.leaf([HOST], '2002'); // renewed with a key nobody pinned
    log = new TestCtLog(pki, 10);
    log.add(pinned);
    log.add(unpinned);
    const url = await log.start();
    f = await startFixture({ ...FAST_CONFIG, lifecycle: { driftIntervalMs: 0, ctIntervalMs: 0, ctLogs: [`${url} key=${log.publicKeyBase64}`] } });
    expect((await f.call('POST', '/api/pinsets', { target: { fleet: 'ct' }, hosts: [{ name: HOST, includeSubdomains: false, pins: [pinned.pin, PIN_B], enforce: true }] })).status).toBe(201);
    const ctOpen = async () => (await f!.call('GET', '/api/findings?kind=ct')).body.open as Open[];

    expect((await f.call('POST', '/api/ct-watch/run')).body).toMatchObject({ raised: 1, cleared: 0, open: 1 });
    const [first] = await ctOpen();
    expect(first).toMatchObject({ kind: 'ct-unpinned' });

    // a new process (as a new leader): before any run it answers the certificates another process saved, and its
    // run continues the log where the last one stopped (entries from 2 on, never from 0 again)
    await f.restart();
    expect(((await f.call('GET', '/api/ct-watch/certificates')).body as { serial: string }[]).map((c) => c.serial).sort()).toEqual(['2001', '2002']);
    log.add(pki.leaf([HOST], '2004', pinned.keyPem)); // a renewal that reuses the pinned key
    const asked = log.requests.length;
    expect((await f.call('POST', '/api/ct-watch/run')).body).toMatchObject({ raised: 0, cleared: 0, open: 1, logs: [{ ok: true, treeSize: 3, fetched: 1 }] });
    expect(log.requests.slice(asked).filter((r) => r.startsWith('/ct/v1/get-entries'))).toEqual(['/ct/v1/get-entries?start=2&end=2']);
    const [again] = await ctOpen();
    expect(again).toMatchObject({ key: first!.key, firstSeenAt: first!.firstSeenAt });

    // another new process whose run cannot believe the new range (an entry that does not hash to the signed root):
    // the log problem is raised, the certificate's finding stays open as recorded rather than cleared
    await f.restart();
    log.add(pki.leaf(['other.org'], '2005'));
    log.tamper(3, pki.leaf(['evil.org'], '2006'));
    const run = (await f.call('POST', '/api/ct-watch/run')).body;
    expect(run).toMatchObject({ raised: 1, cleared: 0, open: 2 });
    expect(run.logs[0]).toMatchObject({ ok: false });
    const open = await ctOpen();
    expect(open.map((o) => o.kind).sort()).toEqual(['ct-log-problem', 'ct-unpinned']);
    expect(open.find((o) => o.kind === 'ct-unpinned')).toMatchObject({ key: first!.key, firstSeenAt: first!.firstSeenAt });
  }, 60_000);
});
