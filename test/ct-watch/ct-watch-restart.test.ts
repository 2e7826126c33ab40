/**
 * Issue 13: CT findings are recorded in the registry, so a gateway that starts again (or a replica that starts
 * leading) continues the watch: its first run re-reads the log from entry 0 and refreshes the recorded findings
 * instead of raising them again; a first run that cannot follow the log leaves them open instead of clearing them.
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

    // a new process: the log is read again from entry 0, the same certificate gives the same key
    await f.restart();
    expect((await f.call('POST', '/api/ct-watch/run')).body).toMatchObject({ raised: 0, cleared: 0, open: 1 });
    const [again] = await ctOpen();
    expect(again).toMatchObject({ key: first!.key, firstSeenAt: first!.firstSeenAt });

    // another new process whose first run cannot believe the log (an entry does not hash to the signed root): the
    // log problem is raised, the certificate's finding stays open as recorded rather than cleared
    await f.restart();
    log.tamper(0, pki.leaf(['other.org'], '2003'));
    const run = (await f.call('POST', '/api/ct-watch/run')).body;
    expect(run).toMatchObject({ raised: 1, cleared: 0, open: 2 });
    expect(run.logs[0]).toMatchObject({ ok: false });
    const open = await ctOpen();
    expect(open.map((o) => o.kind).sort()).toEqual(['ct-log-problem', 'ct-unpinned']);
    expect(open.find((o) => o.kind === 'ct-unpinned')).toMatchObject({ key: first!.key, firstSeenAt: first!.firstSeenAt, lastSeenAt: again!.lastSeenAt });
  }, 60_000);
});
