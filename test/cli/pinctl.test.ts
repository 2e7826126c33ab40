import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../../shared/cli/pinctl';
import { checkKeysetUpdate, keysetFromJson } from '../../shared/index';
import { makeCert, opensslPin, startTlsServer } from '../support/tls';
import { vectors, VECTORS_PATH } from '../support/vectors';

const BIN = fileURLToPath(new URL('../../bin/pinctl.mjs', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'pinctl-'));
const at = (f: string) => join(dir, f);

/** Runs the real `pinctl` executable as a user would. */
function pinctl(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { cwd: dir }, (e, stdout, stderr) => {
      resolve({ code: e ? (typeof e.code === 'number' ? e.code : 1) : 0, stdout, stderr });
    });
  });
}

/** The CLI in-process, for the many small misuse cases. */
async function run(...args: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(args, { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out, err };
}

/** A time inside the vector set's validity (it expired on 2026-01-31): signing and inspecting use it. */
const NOW = String((vectors.valid.pinset as { issuedAt: number }).issuedAt + 60);

writeFileSync(at('vector-pinset.json'), JSON.stringify(vectors.valid.pinset));
writeFileSync(at('vector-keyset.json'), JSON.stringify(vectors.keyset));
writeFileSync(at('vector.cose'), Buffer.from(vectors.valid.cose, 'hex'));

describe('pinctl, the real executable', () => {
  it('keygen writes a 0600 private key, never prints it; sign then inspect accepts the set', async () => {
    const k = await pinctl('keygen', '--out', at('keys'));
    expect(k.code).toBe(0);
    const keyPem = readFileSync(at('keys/signer.key'), 'utf8');
    expect(statSync(at('keys/signer.key')).mode & 0o777).toBe(0o600);
    const body = keyPem.split('\n')[1] as string;
    expect(k.stdout).not.toContain(body);
    const entry = JSON.parse((/keyset entry (.*)/.exec(k.stdout) as RegExpExecArray)[1] as string) as { kid: string; publicKey: string };
    expect((await pinctl('keygen', '--out', at('keys'), '--name', 'backup')).code).toBe(0);
    const ks = await pinctl('keyset', '--version', '3', 'keys/signer.pub', 'keys/backup.pub', '--out', 'keyset.json');
    expect(ks).toMatchObject({ code: 0 });
    expect(JSON.parse(readFileSync(at('keyset.json'), 'utf8'))).toMatchObject({ version: 3, keys: [entry, { kid: expect.any(String) }] });

    const s = await pinctl('sign', 'vector-pinset.json', '--key', 'keys/signer.key', '--out', 'mine.cose', '--keyset', 'keyset.json', '--now', NOW);
    expect(s).toMatchObject({ code: 0 });
    expect(s.stdout).toContain(`kid ${entry.kid}`);
    const i = await pinctl('inspect', 'mine.cose', '--keyset', 'keyset.json', '--now', NOW);
    expect(i.code).toBe(0);
    expect(JSON.parse(i.stdout)).toMatchObject({ ok: true, pinset: vectors.valid.pinset });
    // The same envelope under the vectors' keyset: the signer is unknown there.
    const j = await pinctl('inspect', 'mine.cose', '--keyset', VECTORS_PATH);
    expect(j.code).toBe(2); // the vectors file is not a keyset: misuse, one line
    expect(j.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('inspect with --device runs the contextual checks and exits 1 with the code', async () => {
    const v = vectors.contextual.find((c) => c.error === 'E_ROLLBACK');
    writeFileSync(at('device.json'), JSON.stringify(v?.device));
    const r = await pinctl('inspect', 'vector.cose', '--keyset', 'vector-keyset.json', '--device', 'device.json');
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: false, error: 'E_ROLLBACK' });
  });

  it('inspect without --device still checks expiry, against --now or the clock (SPEC §4 E_EXPIRED)', async () => {
    const today = await pinctl('inspect', 'vector.cose', '--keyset', 'vector-keyset.json'); // the clock: after 2026-01-31
    expect(today.code).toBe(1);
    expect(JSON.parse(today.stdout)).toMatchObject({ ok: false, error: 'E_EXPIRED' });
    const then = await pinctl('inspect', 'vector.cose', '--keyset', 'vector-keyset.json', '--now', NOW);
    expect(then.code).toBe(0);
    const early = await pinctl('inspect', 'vector.cose', '--keyset', 'vector-keyset.json', '--now', '1000');
    expect(JSON.parse(early.stdout)).toMatchObject({ ok: false, error: 'E_NOT_YET' });
  });

  it('sign refuses a set that has already expired, exit 1, writes nothing', async () => {
    await pinctl('keygen', '--out', at('k-exp'));
    const r = await pinctl('sign', 'vector-pinset.json', '--key', 'k-exp/signer.key', '--out', 'expired.cose');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/expired: notAfter 1769817600 .*E_EXPIRED/);
    expect(() => statSync(at('expired.cose'))).toThrow();
  });

  it('keyset --sign-with signs the next keyset offline with a key of the current one, as devices check it', async () => {
    for (const name of ['live', 'backup', 'next']) expect((await pinctl('keygen', '--out', at('rot'), '--name', name)).code).toBe(0);
    expect((await pinctl('keyset', '--version', '1', 'rot/live.pub', 'rot/backup.pub', '--out', 'rot/v1.json')).code).toBe(0);
    const signed = await pinctl(
      'keyset', '--version', '2', 'rot/next.pub', 'rot/backup.pub', '--out', 'rot/v2.json',
      '--sign-with', 'rot/backup.key', '--current', 'rot/v1.json', '--envelope', 'rot/v2.cose', '--request', 'rot/rotate.json',
    );
    expect(signed).toMatchObject({ code: 0 });
    const v1 = keysetFromJson(JSON.parse(readFileSync(at('rot/v1.json'), 'utf8')));
    const v2 = JSON.parse(readFileSync(at('rot/v2.json'), 'utf8')) as { version: number; keys: Array<{ publicKey: string }> };
    if (!v1.ok) throw new Error(v1.error);
    const check = checkKeysetUpdate(new Uint8Array(readFileSync(at('rot/v2.cose'))), v1.value, Math.floor(Date.now() / 1000));
    expect(check.ok).toBe(true);
    const request = JSON.parse(readFileSync(at('rot/rotate.json'), 'utf8')) as { publicKeys: string[]; envelope: string };
    expect(request.publicKeys).toEqual(v2.keys.map((k) => k.publicKey));
    expect(Buffer.from(request.envelope, 'base64')).toEqual(readFileSync(at('rot/v2.cose')));

    // A key outside the current keyset, or a version that skips one, is refused and nothing is written.
    const outsider = await pinctl(
      'keyset', '--version', '2', 'rot/next.pub', 'rot/backup.pub', '--out', 'rot/x.json',
      '--sign-with', 'rot/next.key', '--current', 'rot/v1.json', '--envelope', 'rot/x.cose',
    );
    expect(outsider.code).toBe(1);
    expect(outsider.stderr).toMatch(/not in keyset v1; devices would answer E_KID/);
    const skip = await pinctl(
      'keyset', '--version', '3', 'rot/next.pub', 'rot/backup.pub', '--out', 'rot/x.json',
      '--sign-with', 'rot/live.key', '--current', 'rot/v1.json', '--envelope', 'rot/x.cose',
    );
    expect(skip.code).toBe(1);
    expect(skip.stderr).toMatch(/E_KEYSET/);
    expect(() => statSync(at('rot/x.json'))).toThrow();
    expect(() => statSync(at('rot/x.cose'))).toThrow();
  });

  const servers: Array<{ close(): Promise<void> }> = [];
  afterAll(async () => Promise.all(servers.map((s) => s.close())));

  it('pin prints the pin of a certificate file and of a live TLS server', async () => {
    const cert = makeCert('pin.test');
    writeFileSync(at('cert.pem'), cert.certPem);
    expect((await pinctl('pin', 'cert.pem')).stdout.trim()).toBe(opensslPin(cert.certPem));
    const s = await startTlsServer(cert);
    servers.push(s);
    const live = await pinctl('pin', '--host', `127.0.0.1:${s.port}`);
    expect(live).toMatchObject({ code: 0 });
    expect(live.stdout.trim()).toBe(opensslPin(cert.certPem));
  });
});

describe('pinctl verdicts and misuse (in-process)', () => {
  it('every invalid vector is refused by inspect with its code, exit 1', async () => {
    for (const v of vectors.invalid) {
      writeFileSync(at('bad.cose'), Buffer.from(v.cose, 'hex'));
      const r = await run('inspect', at('bad.cose'), '--keyset', at('vector-keyset.json'), '--now', NOW);
      expect(r.code, v.name).toBe(1);
      expect(JSON.parse(r.out[0] as string)).toMatchObject({ ok: false, error: v.error });
    }
  });

  it('sign refuses an enforced host with a single pin (rule of two), exit 1, writes nothing', async () => {
    await run('keygen', '--out', at('k2'));
    const p = structuredClone(vectors.valid.pinset) as { hosts: Array<{ pins: string[] }> };
    p.hosts[0]!.pins = p.hosts[0]!.pins.slice(0, 1);
    writeFileSync(at('single.json'), JSON.stringify(p));
    const r = await run('sign', at('single.json'), '--key', at('k2/signer.key'), '--out', at('single.cose'), '--now', NOW);
    expect(r.code).toBe(1);
    expect(r.err.join('\n')).toMatch(/rule of two/);
    expect(() => statSync(at('single.cose'))).toThrow();
  });

  const misuse: Array<[string, string[], RegExp]> = [
    ['no command', [], /./],
    ['unknown command', ['frobnicate'], /unknown command/],
    ['missing file', ['inspect', 'nope.cose', '--keyset', 'nope.json'], /cannot read keyset nope\.json: ENOENT/],
    ['keyset not JSON', ['inspect', BIN, '--keyset', BIN], /is not JSON/],
    ['sign without --key', ['sign', 'x.json', '--out', 'y'], /missing --key/],
    ['bad key file', ['sign', BIN, '--key', BIN, '--out', 'y'], /not an Ed25519 private key/],
    ['unknown option', ['pin', '--hots', 'x'], /unknown option --hots/],
    ['unknown option last, not "needs a value"', ['inspect', 'x.cose', '--keyset', 'k.json', '--devcie'], /^pinctl: unknown option --devcie$/],
    ['unknown option of another command', ['sign', 'x.json', '--chain'], /unknown option --chain/],
    ['keyset signing without --current', ['keyset', '--version', '2', BIN, BIN, '--out', 'o.json', '--sign-with', BIN], /missing --current|not an Ed25519/],
    ['bad host', ['pin', '--host', 'example.com'], /HOST:PORT/],
    ['keyset of one key', ['keyset', '--version', '1', BIN], /at least 2 public keys/],
    ['keyset of a non-key', ['keyset', '--version', '1', BIN, BIN], /not an Ed25519 public key/],
    ['keygen would overwrite', ['keygen', '--out', join(dir, 'k2')], /refusing to overwrite/],
  ];
  for (const [name, args, msg] of misuse) {
    it(`${name}: one line, exit 2`, async () => {
      const r = await run(...args);
      expect(r.code).toBe(2);
      if (args.length > 0) {
        expect(r.err).toHaveLength(1);
        expect(r.err[0]).toMatch(msg);
      }
    });
  }
});
