/**
 * Issue 16 §3: the CT watch (production client, unchanged) against a real RFC 6962 log built in the test
 * (test/support/ct-log.ts: openssl-made certificates, Merkle tree, signed tree heads, JSON API on a loopback port).
 */
import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { leafHash, merkleRoot, MerkleFrontier } from '../../gateway/ct-watch/merkle';
import { nameCovers } from '../../gateway/ct-watch/ct-rules';
import { TestCtLog, TestPki } from '../support/ct-log';
import { waitFor } from '../gateway/helpers/wait-for';
import { connectAll, disconnectAll, FAST_CONFIG, startFixture, type Fixture } from '../rollout-driver/helpers/rollout-fixture';
import { PIN_B, PIN_D, type SimDevice } from '../rollout-driver/helpers/sim-device';

const HOST = 'api.example.com';

describe('Merkle frontier (RFC 6962 §2.1)', () => {
  it('gives the MTH of the definition for every size 0..70', () => {
    const leaves: Uint8Array[] = [];
    const f = MerkleFrontier.empty();
    for (let n = 0; n <= 70; n++) {
      expect(Buffer.from(f.root()).toString('hex')).toBe(Buffer.from(merkleRoot(leaves)).toString('hex'));
      const h = leafHash(Uint8Array.of(n, n + 1));
      leaves.push(h);
      f.append(h);
    }
    // the empty tree's root is SHA-256 of nothing (RFC 6962 §2.1)
    expect(Buffer.from(MerkleFrontier.empty().root()).toString('hex')).toBe(createHash('sha256').digest('hex'));
  });

  it('is kept and read back (issue 13: a new leader continues a log from its saved frontier); a frontier that does not fit its size is refused', () => {
    for (const n of [0, 1, 2, 3, 6, 7, 8, 70]) {
      const f = MerkleFrontier.empty();
      for (let i = 0; i < n; i++) f.append(leafHash(Uint8Array.of(i)));
      const back = MerkleFrontier.fromJSON(JSON.parse(JSON.stringify(f.toJSON())) as ReturnType<MerkleFrontier['toJSON']>);
      expect(back.size).toBe(n);
      expect(Buffer.from(back.root()).toString('hex')).toBe(Buffer.from(f.root()).toString('hex'));
      back.append(leafHash(Uint8Array.of(200)));
      f.append(leafHash(Uint8Array.of(200)));
      expect(Buffer.from(back.root()).toString('hex')).toBe(Buffer.from(f.root()).toString('hex'));
    }
    const h = Buffer.alloc(32).toString('base64');
    expect(() => MerkleFrontier.fromJSON({ size: 6, nodes: [{ size: 2, hash: h }, { size: 4, hash: h }] })).toThrow(/not a Merkle frontier of 6 leaves/);
    expect(() => MerkleFrontier.fromJSON({ size: 6, nodes: [{ size: 4, hash: h }] })).toThrow(/not a Merkle frontier/);
    expect(() => MerkleFrontier.fromJSON({ size: 3, nodes: [{ size: 3, hash: h }] })).toThrow(/not a Merkle frontier/);
    // beyond 32 bits, as real logs are
    expect(MerkleFrontier.fromJSON({ size: 2 ** 33 + 1, nodes: [{ size: 2 ** 33, hash: h }, { size: 1, hash: h }] }).size).toBe(2 ** 33 + 1);
  });

  it('matches names as a TLS client would (one wildcard label) and the subdomain rule', () => {
    expect(nameCovers('api.example.com', { host: HOST, includeSubdomains: false })).toBe(true);
    expect(nameCovers('*.example.com', { host: HOST, includeSubdomains: false })).toBe(true);
    expect(nameCovers('*.api.example.com', { host: HOST, includeSubdomains: false })).toBe(false);
    expect(nameCovers('*.api.example.com', { host: HOST, includeSubdomains: true })).toBe(true);
    expect(nameCovers('x.api.example.com', { host: HOST, includeSubdomains: false })).toBe(false);
    expect(nameCovers('evilapi.example.com', { host: HOST, includeSubdomains: true })).toBe(false);
  });
});

describe('CT watch against a real RFC 6962 log', () => {
  let f: Fixture | null = null;
  let log: TestCtLog | null = null;
  let devices: SimDevice[] = [];
  afterEach(async () => {
    await disconnectAll(devices);
    devices = [];
    await f?.close();
    f = null;
    await log?.stop();
    log = null;
  });

  it('follows the log, raises a finding per unpinned certificate for our names, pre-approves pinned keys and classifies mismatches', async () => {
    const pki = new TestPki();
    const c1 = pki.leaf([HOST], '1001');
    const c2 = pki.leaf([HOST, 'www.example.com'], '1002', c1.keyPem); // renewal that reuses the key (certbot --reuse-key)
    const c3 = pki.leaf([HOST], '1003'); // renewed with a new key nobody pinned
    const c4 = pki.leaf(['*.example.com'], '1004'); // a wildcard valid for our host, logged as a precert
    const c5 = pki.leaf(['other.org'], '1005');
    const c6 = pki.leaf(['deep.api.example.com'], '1006'); // below our host, which is not includeSubdomains
    log = new TestCtLog(pki, 2);
    [c1, c2, c3].forEach((c) => log!.add(c));
    log.add(c4, { precert: true });
    [c5, c6].forEach((c) => log!.add(c));
    const url = await log.start();
    f = await startFixture({ ...FAST_CONFIG, lifecycle: { driftIntervalMs: 0, ctIntervalMs: 0, ctLogs: [`${url} key=${log.publicKeyBase64}`] } });
    const set = await f.call('POST', '/api/pinsets', { target: { fleet: 'ct' }, hosts: [{ name: HOST, includeSubdomains: false, pins: [c1.pin, PIN_B], enforce: true }] });
    expect(set.status).toBe(201);

    const run = (await f.call('POST', '/api/ct-watch/run')).body;
    expect(run.logs).toEqual([{ log: url, ok: true, treeSize: 6, fetched: 6, kept: 4, unparsed: 0, error: null }]);
    expect(log.requests.filter((r) => r.startsWith('/ct/v1/get-entries'))).toEqual([
      '/ct/v1/get-entries?start=0&end=5', '/ct/v1/get-entries?start=2&end=5', '/ct/v1/get-entries?start=4&end=5',
    ]);
    const open = (await f.call('GET', '/api/findings?kind=ct')).body.open as { kind: string; host: string; detail: Record<string, unknown> }[];
    expect(open.map((x) => x.detail['serial']).sort()).toEqual(['1003', '1004']);
    const f3 = open.find((x) => x.detail['serial'] === '1003')!;
    expect(f3).toMatchObject({ kind: 'ct-unpinned', host: HOST, detail: { pin: c3.pin, issuer: 'CN=Test CT CA', names: [HOST], entryType: 'x509', index: 2, fleets: ['ct'] } });
    expect(Date.parse(f3.detail['notAfter'] as string)).toBeGreaterThan(Date.parse(f3.detail['notBefore'] as string));
    expect(open.find((x) => x.detail['serial'] === '1004')?.detail).toMatchObject({ entryType: 'precert', names: ['*.example.com'] });

    // the log grows: only the new entry is fetched, and the new root is checked against the frontier
    const c7 = pki.leaf([HOST], '1007');
    log.add(c7);
    log.requests.length = 0;
    const run2 = (await f.call('POST', '/api/ct-watch/run')).body;
    expect(run2).toMatchObject({ raised: 1, logs: [{ ok: true, treeSize: 7, fetched: 1, kept: 1 }] });
    expect(log.requests.filter((r) => r.startsWith('/ct/v1/get-entries'))).toEqual(['/ct/v1/get-entries?start=6&end=6']);

    // keys pinned are pre-approved: publishing c3's key (our next key, announced late) clears its finding
    const set2 = await f.call('POST', '/api/pinsets', { target: { fleet: 'ct' }, hosts: [{ name: HOST, includeSubdomains: false, pins: [c1.pin, c3.pin, PIN_B], enforce: true }] });
    expect(set2.status).toBe(201);
    const run3 = (await f.call('POST', '/api/ct-watch/run')).body;
    expect(run3).toMatchObject({ raised: 0, cleared: 1, open: 2 });
    expect((await f.call('GET', '/api/findings?kind=ct')).body.resolved[0].detail.serial).toBe('1003');

    // mismatch telemetry: a served key logged for our name vs one nobody logged
    devices = await f.enrolFleet('ct', 1);
    await connectAll(f.url, devices);
    const d = devices[0]!;
    await d.report('mismatch', c4.pin);
    await d.report('mismatch', PIN_D);
    const classified = await waitFor('both reports classified', async () => {
      const rows = (await f!.call('GET', `/api/ct-watch/mismatches?host=${HOST}`)).body as { servedPins: string[]; classification: string; certificates: { serial: string }[] }[];
      return rows.length === 2 ? rows : null;
    });
    expect(classified.find((r) => r.servedPins[0] === c4.pin)).toMatchObject({ classification: 'logged-for-our-name', certificates: [{ serial: '1004' }] });
    expect(classified.find((r) => r.servedPins[0] === PIN_D)).toMatchObject({ classification: 'not-logged', certificates: [] });
    expect((await f.call('GET', `/api/ct-watch/certificates?host=${HOST}`)).body.map((c: { serial: string }) => c.serial).sort()).toEqual(['1001', '1002', '1003', '1004', '1007']);
  }, 60_000);

  it('believes nothing from a log whose entries do not hash to its signed root, or whose tree head is not signed by its key', async () => {
    const pki = new TestPki();
    const c1 = pki.leaf([HOST], '2001');
    const evil = pki.leaf([HOST], '2002');
    log = new TestCtLog(pki, 10);
    log.add(c1);
    log.add(pki.leaf(['x.org'], '2003'));
    log.tamper(1, evil); // the log serves a certificate its tree does not contain
    const url = await log.start();
    const other = new TestCtLog(pki); // a key that is not this log's
    f = await startFixture({ ...FAST_CONFIG, lifecycle: { driftIntervalMs: 0, ctIntervalMs: 0, ctLogs: [url, `${url} key=${other.publicKeyBase64}`] } });
    await f.call('POST', '/api/pinsets', { target: { fleet: 'ct' }, hosts: [{ name: HOST, includeSubdomains: false, pins: [c1.pin, PIN_B], enforce: true }] });
    const run = (await f.call('POST', '/api/ct-watch/run')).body;
    expect(run.logs[0]).toMatchObject({ ok: false, error: expect.stringContaining('do not hash to the signed root') });
    expect(run.logs[1]).toMatchObject({ ok: false, error: expect.stringContaining('bad signature') });
    const open = (await f.call('GET', '/api/findings?kind=ct')).body.open;
    expect(open.map((x: { kind: string }) => x.kind)).toEqual(['ct-log-problem', 'ct-log-problem']);
    expect((await f.call('GET', '/api/ct-watch/certificates')).body).toEqual([]);
  }, 30_000);
});
