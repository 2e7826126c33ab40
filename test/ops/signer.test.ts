import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { removeDir, tempDir } from '../gateway/helpers/test-gateway';
import { baseEnv, call, failedStart, startGatewayChild, type GatewayChild } from './gateway-child';

const PINCTL = fileURLToPath(new URL('../../bin/pinctl.mjs', import.meta.url));
const pinctl = (cwd: string, ...args: string[]) => execFileSync(process.execPath, [PINCTL, ...args], { cwd, encoding: 'utf8' });

const PIN_A = 'sha256/' + Buffer.alloc(32, 1).toString('base64');
const PIN_B = 'sha256/' + Buffer.alloc(32, 2).toString('base64');

describe('the signer story, as an operator runs the gateway (real processes)', () => {
  const dirs: string[] = [];
  const running: GatewayChild[] = [];
  afterAll(async () => {
    await Promise.all(running.map((g) => g.stop()));
    dirs.forEach(removeDir);
  });

  it('a missing signer.key once a keyset exists refuses start-up and says what to do', async () => {
    const dataDir = tempDir('pingw-signer-');
    dirs.push(dataDir);
    const first = await startGatewayChild(baseEnv(dataDir));
    running.push(first);
    expect(first.output()).toMatch(/signer public key: [0-9a-f]{64}/);
    await first.stop();
    rmSync(join(dataDir, 'signer.key'));
    const again = await failedStart(baseEnv(dataDir));
    expect(again.code).toBe(1);
    expect(again.output).toMatch(/signer key .*signer\.key is missing, but the registry already holds keyset v1/);
    expect(again.output).toMatch(/restore the key file/);
    expect(again.output).toMatch(/PINGW_SIGNER=offline/);
    expect(() => readFileSync(join(dataDir, 'signer.key'))).toThrow(); // never silently replaced
  });

  it('PINGW_SIGNER=offline without a keyset file refuses start-up naming PINGW_KEYSET_FILE', async () => {
    const dataDir = tempDir('pingw-signer-');
    dirs.push(dataDir);
    const r = await failedStart(baseEnv(dataDir, { PINGW_SIGNER: 'offline' }));
    expect(r.code).toBe(1);
    expect(r.output).toMatch(/PINGW_SIGNER=offline needs the first keyset: set PINGW_KEYSET_FILE/);
  });

  it('with no private key the gateway accepts only offline-signed envelopes; the backup signer rotates the keyset', async () => {
    const work = tempDir('pingw-offline-');
    dirs.push(work);
    const dataDir = join(work, 'data');
    for (const name of ['signer', 'backup', 'next']) pinctl(work, 'keygen', '--out', 'keys', '--name', name);
    pinctl(work, 'keyset', '--version', '1', 'keys/signer.pub', 'keys/backup.pub', '--out', 'keyset-v1.json');
    const gw = await startGatewayChild(baseEnv(dataDir, { PINGW_SIGNER: 'offline', PINGW_KEYSET_FILE: join(work, 'keyset-v1.json') }));
    running.push(gw);
    expect(gw.output()).toMatch(/signer: none \(PINGW_SIGNER=offline\)/);
    // the process serves Prometheus metrics where it says it does, without a token
    const metricsUrl = (/Metrics:\s+(\S+)/.exec(gw.output()) as RegExpExecArray)[1] as string;
    const scrape = await fetch(metricsUrl);
    expect(scrape.status).toBe(200);
    expect(await scrape.text()).toMatch(/^nodejs_eventloop_lag_seconds \S+$/m);
    const admin = readFileSync(join(dataDir, 'admin.token'), 'utf8').trim();
    expect(() => readFileSync(join(dataDir, 'signer.key'))).toThrow(); // no private key is created

    const now = Math.floor(Date.now() / 1000);
    const draft = {
      format: 1, seq: 1, issuedAt: now, notAfter: now + 86_400, keysetVersion: 1, target: { fleet: 'fleet-a' },
      hosts: [{ name: 'api.example.com', includeSubdomains: false, pins: [PIN_A, PIN_B], enforce: false }],
    };
    const json = await call(gw.url, admin, 'POST', '/api/pinsets', { target: draft.target, hosts: draft.hosts });
    expect(json.status).toBe(409);
    expect(json.body.error.code).toBe('E_NO_SIGNER');

    writeFileSync(join(work, 'pinset.json'), JSON.stringify(draft));
    pinctl(work, 'sign', 'pinset.json', '--key', 'keys/signer.key', '--out', 'pinset.cose', '--keyset', 'keyset-v1.json');
    const env = await call(gw.url, admin, 'POST', '/api/pinsets/envelope', { envelope: readFileSync(join(work, 'pinset.cose')).toString('base64') });
    expect(env.status).toBe(201);
    expect(env.body).toMatchObject({ fleet: 'fleet-a', seq: 1, keysetVersion: 1 });

    // The gateway cannot sign a rotation itself...
    const here = await call(gw.url, admin, 'POST', '/api/keysets/rotate', { publicKeys: ['aa'.repeat(32), 'bb'.repeat(32)] });
    expect(here.body.error.code).toBe('E_NO_SIGNER');
    // ...but the offline backup signer can, with pinctl alone.
    pinctl(
      work, 'keyset', '--version', '2', 'keys/next.pub', 'keys/backup.pub', '--out', 'keyset-v2.json',
      '--sign-with', 'keys/backup.key', '--current', 'keyset-v1.json', '--envelope', 'keyset-v2.cose', '--request', 'rotate.json',
    );
    const rotated = await call(gw.url, admin, 'POST', '/api/keysets/rotate', JSON.parse(readFileSync(join(work, 'rotate.json'), 'utf8')));
    expect(rotated.status).toBe(200);
    expect(rotated.body).toMatchObject({ version: 2, gatewayCanSign: false });
    const keysets = await call(gw.url, admin, 'GET', '/api/keysets');
    expect(keysets.body.map((k: { version: number; signed: boolean }) => [k.version, k.signed])).toEqual([[1, false], [2, true]]);
    await gw.stop();
  });
});
