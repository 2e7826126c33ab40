/**
 * Issue 17, API side, on a real gateway over its real HTTP port: keyset rotation roles and the signer-removal
 * flag, body caps (413 before buffering, chunked too), a client aborting mid-body (INFO, not ERROR), identifier
 * alphabets, literal device search, reasons of every rollout action in the audit, refused writes audited.
 */
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateSignerKey, toHex } from '../../shared/index';
import { api, createToken, pinsetDraft, removeDir, startTestGateway, tempDir, type TestGateway } from '../gateway/helpers/test-gateway';
import { waitFor } from '../gateway/helpers/wait-for';

let dir: string;
let gw: TestGateway;
let operator: string;
let viewer: string;

beforeAll(async () => {
  dir = tempDir();
  gw = await startTestGateway(dir);
  operator = await createToken(gw, 'ops', 'operator');
  viewer = await createToken(gw, 'view', 'viewer');
});
afterAll(async () => {
  await gw.stop();
  removeDir(dir);
});

const audit = async () => (await api(gw, 'GET', '/api/audit?limit=1000', { token: gw.adminToken })).body.items as { actor: string; action: string; target: string; detail: any }[];

describe('keyset rotation', () => {
  it('is admin-only, and an operator trying it is audited', async () => {
    const keys = [gw.signerPublicKey, toHex(generateSignerKey().publicKey)];
    const res = await api(gw, 'POST', '/api/keysets/rotate', { token: operator, body: { publicKeys: keys } });
    expect(res.status).toBe(403);
    expect(res.body.error.code).toBe('E_FORBIDDEN');
    expect(await audit()).toEqual(expect.arrayContaining([expect.objectContaining({ actor: 'ops', action: 'access.refused', target: 'POST /api/keysets/rotate' })]));
    expect((await api(gw, 'GET', '/api/keysets', { token: viewer })).body).toHaveLength(1);
  });

  it('refuses to drop the gateway or backup signer unless told so with a reason, and audits the removal', async () => {
    const [v1] = (await api(gw, 'GET', '/api/keysets', { token: viewer })).body;
    const backup = (v1.publicKeys as string[]).find((k) => k !== gw.signerPublicKey)!;
    const fresh = () => toHex(generateSignerKey().publicKey);
    const dropSigner = await api(gw, 'POST', '/api/keysets/rotate', { token: gw.adminToken, body: { publicKeys: [backup, fresh()] } });
    expect(dropSigner.status).toBe(422);
    expect(dropSigner.body.error).toMatchObject({ code: 'E_REMOVES_SIGNER', removed: [gw.signerPublicKey] });
    const dropBackup = await api(gw, 'POST', '/api/keysets/rotate', { token: gw.adminToken, body: { publicKeys: [gw.signerPublicKey, fresh()] } });
    expect(dropBackup.body.error).toMatchObject({ code: 'E_REMOVES_SIGNER', removed: [backup] });
    const noReason = await api(gw, 'POST', '/api/keysets/rotate', { token: gw.adminToken, body: { publicKeys: [gw.signerPublicKey, fresh()], removeSigners: true } });
    expect(noReason.body.error.code).toBe('E_BAD_BODY');
    // adding a key keeps every signer: no flag needed
    const grow = await api(gw, 'POST', '/api/keysets/rotate', { token: gw.adminToken, body: { publicKeys: [gw.signerPublicKey, backup, fresh()] } });
    expect(grow.status).toBe(200);
    const next = fresh();
    const ok = await api(gw, 'POST', '/api/keysets/rotate', {
      token: gw.adminToken,
      body: { publicKeys: [gw.signerPublicKey, backup, next].filter((k) => k !== backup).concat(fresh()), removeSigners: true, reason: 'backup HSM retired' },
    });
    expect(ok.status).toBe(200);
    const entry = (await audit()).find((e) => e.action === 'keyset.rotate' && e.detail?.removedSigners !== undefined);
    expect(entry?.detail).toMatchObject({ removedSigners: [backup, grow.body.publicKeys[2]], reason: 'backup HSM retired' });
  });
});

/** Sends raw HTTP over a real socket; resolves with the status line and body once the server answers or closes. */
function rawHttp(head: string, body: Buffer | null, opts: { abortAfterBody?: boolean } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(gw.http.port, '127.0.0.1');
    let answer = '';
    socket.on('data', (d) => (answer += d.toString('latin1')));
    socket.on('error', () => resolve(answer));
    socket.on('close', () => resolve(answer));
    socket.on('connect', () => {
      socket.write(head);
      if (body !== null) socket.write(body);
      if (opts.abortAfterBody === true) setImmediate(() => socket.destroy());
    });
    setTimeout(() => reject(new Error('no answer')), 20_000).unref();
  });
}

describe('request bodies', () => {
  it('refuses a body over the cap with 413 E_TOO_LARGE before reading it (Content-Length)', async () => {
    const big = Buffer.alloc(100 * 1024 * 1024, 0x20); // announced 100 MB; only the first chunk is ever sent
    const head = `POST /api/devices HTTP/1.1\r\nhost: x\r\nauthorization: Bearer ${gw.adminToken}\r\ncontent-type: application/json\r\ncontent-length: ${big.length}\r\nconnection: close\r\n\r\n`;
    const answer = await rawHttp(head, big.subarray(0, 1024));
    expect(answer).toMatch(/^HTTP\/1.1 413/);
    expect(answer).toContain('"E_TOO_LARGE"');
  });

  it('refuses a chunked body as soon as it passes the cap', async () => {
    const chunk = Buffer.alloc(16 * 1024, 0x20);
    const res = await fetch(`${gw.http.url}/api/devices`, {
      method: 'POST',
      headers: { authorization: `Bearer ${gw.adminToken}`, 'content-type': 'application/json' },
      body: new ReadableStream({
        pull(ctrl) {
          ctrl.enqueue(chunk); // never ends on its own: only the cap stops it
        },
      }),
      duplex: 'half',
    } as RequestInit & { duplex: 'half' });
    expect(res.status).toBe(413);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('E_TOO_LARGE');
  });

  it('deliver and rollout creation take bodies up to 4 MiB (device id lists); over it 413', async () => {
    const ids = (n: number) => Array.from({ length: n }, (_, i) => `bulk-${String(i).padStart(6, '0')}`);
    for (const path of ['/api/pinsets/999999/deliver', '/api/rollouts']) {
      // ~200 KiB: over the 64 KiB default, under 4 MiB — read and judged on its content (no such pin set / bad plan)
      const mid = await api(gw, 'POST', path, { token: gw.adminToken, body: path.endsWith('deliver') ? { deviceIds: ids(12_000) } : { pinsetId: 999999, plan: { waves: [{ selector: { deviceIds: ids(12_000) }, limit: { percent: 100 } }] } } });
      expect(mid.status, path).not.toBe(413);
      expect(mid.body.error.code, path).not.toBe('E_TOO_LARGE');
      const over = await api(gw, 'POST', path, { token: gw.adminToken, body: { deviceIds: ids(400_000) } }); // ~5.6 MB
      expect(over.status, path).toBe(413);
      expect(over.body.error.code).toBe('E_TOO_LARGE');
    }
    // the same 200 KiB on a route with the default cap is refused
    const small = await api(gw, 'POST', '/api/devices', { token: gw.adminToken, body: { deviceId: 'x', fleet: 'f', deviceClass: 'c', labels: ids(12_000) } });
    expect(small.status).toBe(413);
  });

  it('a client aborting mid-body is logged at INFO, never as an ERROR with a stack', async () => {
    const head = `POST /api/devices HTTP/1.1\r\nhost: x\r\nauthorization: Bearer ${gw.adminToken}\r\ncontent-type: application/json\r\ncontent-length: 5000\r\n\r\n`;
    const before = gw.logs.length;
    await rawHttp(head, Buffer.from('{"deviceId":'), { abortAfterBody: true });
    await waitFor('abort logged', () => gw.logs.slice(before).some((l) => l.message === 'API request aborted by the client'));
    expect(gw.logs.slice(before).filter((l) => l.level === 'error')).toEqual([]);
  });
});

describe('identifiers', () => {
  const enrol = (body: Record<string, unknown>) =>
    api(gw, 'POST', '/api/devices', { token: operator, body: { deviceId: 'id-ok', fleet: 'fleet-i', deviceClass: 'c', ...body } });

  it('refuses device ids "." and ".." and ids that are not a safe topic level / file name', async () => {
    for (const deviceId of ['.', '..', '.hidden', '-rf', 'a/b', 'a+b', 'a#', 'é', 'a b', '']) {
      const res = await enrol({ deviceId });
      expect(res.status, JSON.stringify(deviceId)).toBe(400);
      expect(res.body.error.code).toBe('E_BAD_BODY');
    }
  });

  it('refuses NUL, CR/LF, ESC, DEL, bidi overrides and zero-width characters in fleet, deviceClass and labels', async () => {
    const hostile = ['a\u0000b', 'a\r\nb', 'a\u001b[31mb', 'a\u007fb', 'a\u202eb', 'a\u200bb', 'a\u2066b', 'a\ufeffb', ' a', 'a '];
    for (const bad of hostile) {
      for (const field of ['fleet', 'deviceClass'] as const) {
        const res = await enrol({ deviceId: 'id-x', [field]: bad });
        expect(res.body.error?.code, `${field} ${JSON.stringify(bad)}`).toBe('E_BAD_BODY');
      }
      const res = await enrol({ deviceId: 'id-x', labels: [bad] });
      expect(res.body.error?.code, `label ${JSON.stringify(bad)}`).toBe('E_BAD_BODY');
    }
    expect((await api(gw, 'GET', '/api/devices/id-x', { token: viewer })).status).toBe(404);
    for (const bad of hostile) {
      const res = await api(gw, 'POST', '/api/tokens', { token: gw.adminToken, body: { name: bad, role: 'viewer' } });
      expect(res.body.error?.code, `token name ${JSON.stringify(bad)}`).toBe('E_BAD_BODY');
    }
    const names = ((await api(gw, 'GET', '/api/tokens', { token: gw.adminToken })).body as { name: string }[]).map((t) => t.name);
    expect(names.filter((n) => hostile.includes(n))).toEqual([]);
    const fine = await enrol({ deviceId: 'id-ok', labels: ['eu-west', 'Zürich', 'rack:7'] });
    expect(fine.status).toBe(201);
  });
});

describe('device search', () => {
  it('matches the literal text: [ ] " \\ % _ are not patterns', async () => {
    for (const [id, labels] of [['srch-1', ['eu']], ['srch-2', ['us', 'beta']]] as const) {
      await api(gw, 'POST', '/api/devices', { token: operator, body: { deviceId: id, fleet: 'fleet-s', deviceClass: 'c', labels } });
    }
    const ids = async (q: string) =>
      ((await api(gw, 'GET', `/api/devices?fleet=fleet-s&q=${encodeURIComponent(q)}`, { token: viewer })).body.items as { deviceId: string }[]).map((d) => d.deviceId);
    for (const q of ['[', ']', '"', '\\', '","', '%', '_', '["eu"]']) expect(await ids(q), q).toEqual([]);
    expect(await ids('eu')).toEqual(['srch-1']);
    expect(await ids('bet')).toEqual(['srch-2']);
    expect(await ids('srch-')).toEqual(['srch-1', 'srch-2']);
  });
});

describe('rollout actions in the audit', () => {
  it('records the reason given to every action, advance and resume included', async () => {
    const p = await api(gw, 'POST', '/api/pinsets', { token: gw.adminToken, body: pinsetDraft('fleet-audit') });
    await api(gw, 'POST', '/api/devices', { token: operator, body: { deviceId: 'aud-1', fleet: 'fleet-audit', deviceClass: 'c' } });
    const plan = { waves: [{ limit: { count: 1 } }, { limit: { percent: 100 } }] };
    const id = (await api(gw, 'POST', '/api/rollouts', { token: operator, body: { pinsetId: p.body.id, plan } })).body.id as string;
    const act = (a: string, reason: string) => api(gw, 'POST', `/api/rollouts/${id}/${a}`, { token: operator, body: { reason } });
    expect((await act('start', 'change CHG-1')).status).toBe(200);
    expect((await act('pause', 'looking at graphs')).status).toBe(200);
    expect((await act('resume', 'graphs fine')).status).toBe(200);
    expect((await act('advance', 'canary looks good, go')).status).toBe(200);
    const entries = (await audit()).filter((e) => e.target === id && e.action.startsWith('rollout.') && e.actor === 'ops');
    const reasons = Object.fromEntries(entries.map((e) => [e.action, e.detail?.reason]));
    expect(reasons).toMatchObject({
      'rollout.start': 'change CHG-1',
      'rollout.pause': 'looking at graphs',
      'rollout.resume': 'graphs fine',
      'rollout.advance': 'canary looks good, go',
    });
  });

  it('audits refused (403) writes with who tried and what', async () => {
    const res = await api(gw, 'POST', '/api/rollouts/r1/abort', { token: viewer, body: { reason: 'x' } });
    expect(res.status).toBe(403);
    expect(await audit()).toEqual(
      expect.arrayContaining([expect.objectContaining({ actor: 'view', action: 'access.refused', target: 'POST /api/rollouts/r1/abort', detail: { role: 'viewer', needs: 'operator' } })]),
    );
  });
});
