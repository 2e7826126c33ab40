import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:tls';
import type { AddressInfo } from 'node:net';
import { fetchServerPins, formatPin, generateSignerKey, pinFromCertificate, pinSetFromJson, signKeyset, signPinSet, toHex } from '../../shared/index';
import { readSignerKey } from '../../gateway/secrets/signer-keys';
import { generateSelfSignedCert } from '../../gateway/secrets/tls-material';
import { api, createToken, pinsetDraft, removeDir, startTestGateway, tempDir, type TestGateway } from './helpers/test-gateway';

const LIVE_HOST = 'live.example.test';
const OTHER_PIN = 'sha256/' + Buffer.alloc(32, 9).toString('base64');
const OTHER_PIN_2 = 'sha256/' + Buffer.alloc(32, 8).toString('base64');

describe('publishing API', () => {
  let dir: string;
  let gw: TestGateway;
  let tlsServer: Server;
  let livePin: string;
  const tokens = { viewer: '', publisher: '', operator: '' };

  beforeAll(async () => {
    dir = tempDir();
    // a local TLS server stands in for an enforced host; the live check reaches it under its name
    const certs = generateSelfSignedCert(`${dir}/live-host`, [LIVE_HOST]);
    const cert = readFileSync(certs.certFile);
    livePin = formatPin(pinFromCertificate(cert.toString('utf8')));
    tlsServer = createServer({ cert, key: readFileSync(certs.keyFile) }, (s) => s.end());
    await new Promise<void>((r) => tlsServer.listen(0, '127.0.0.1', () => r()));
    const tlsPort = (tlsServer.address() as AddressInfo).port;
    gw = await startTestGateway(`${dir}/gw`, {}, {
      fetchServerPins: async (host, port, opts) => {
        if (host === LIVE_HOST && port === 443) return fetchServerPins('127.0.0.1', tlsPort, { ...opts, servername: host });
        throw new Error(`${host}:${port} unreachable`);
      },
    });
    for (const role of ['viewer', 'publisher', 'operator'] as const) tokens[role] = await createToken(gw, `${role}-1`, role);
  });
  afterAll(async () => {
    await gw.stop();
    await new Promise<void>((r) => tlsServer.close(() => r()));
    removeDir(dir);
  });

  describe('authentication and roles', () => {
    it('401 without a token or with an unknown one', async () => {
      expect((await api(gw, 'GET', '/api/devices')).body.error.code).toBe('E_UNAUTHORIZED');
      const res = await api(gw, 'GET', '/api/devices', { token: 'pgw_nope' });
      expect(res.status).toBe(401);
    });

    it('a viewer reads but cannot publish, enrol or create tokens', async () => {
      expect((await api(gw, 'GET', '/api/devices', { token: tokens['viewer'] })).status).toBe(200);
      const pub = await api(gw, 'POST', '/api/pinsets', { token: tokens['viewer'], body: pinsetDraft('fleet-r') });
      expect(pub.status).toBe(403);
      expect(pub.body.error.code).toBe('E_FORBIDDEN');
      expect((await api(gw, 'POST', '/api/devices', { token: tokens['viewer'], body: { deviceId: 'v', fleet: 'f', deviceClass: 'c' } })).status).toBe(403);
      expect((await api(gw, 'POST', '/api/tokens', { token: tokens['viewer'], body: { name: 'x', role: 'viewer' } })).status).toBe(403);
    });

    it('a publisher publishes but cannot enrol devices, deliver or create tokens', async () => {
      const created = await api(gw, 'POST', '/api/pinsets', { token: tokens['publisher'], body: pinsetDraft('fleet-r') });
      expect(created.status).toBe(201);
      expect((await api(gw, 'POST', '/api/devices', { token: tokens['publisher'], body: { deviceId: 'p', fleet: 'f', deviceClass: 'c' } })).status).toBe(403);
      expect((await api(gw, 'POST', `/api/pinsets/${created.body.id}/deliver`, { token: tokens['publisher'], body: {} })).status).toBe(403);
      expect((await api(gw, 'POST', '/api/tokens', { token: tokens['publisher'], body: { name: 'y', role: 'admin' } })).status).toBe(403);
    });

    it('an operator enrols (credential shown once) but cannot create tokens', async () => {
      const res = await api(gw, 'POST', '/api/devices', { token: tokens['operator'], body: { deviceId: 'op-dev', fleet: 'fleet-r', deviceClass: 'c' } });
      expect(res.status).toBe(201);
      expect(res.body.credential).toMatch(/^[A-Za-z0-9_-]{43}$/);
      const again = await api(gw, 'GET', '/api/devices/op-dev', { token: tokens['viewer'] });
      expect(JSON.stringify(again.body)).not.toContain(res.body.credential);
      expect(again.body).not.toHaveProperty('credentialHash');
      expect((await api(gw, 'POST', '/api/tokens', { token: tokens['operator'], body: { name: 'z', role: 'viewer' } })).status).toBe(403);
      expect((await api(gw, 'POST', '/api/devices', { token: tokens['operator'], body: { deviceId: 'op-dev', fleet: 'fleet-r', deviceClass: 'c' } })).status).toBe(409);
    });

    it('every action is in the audit log', async () => {
      const audit = await api(gw, 'GET', '/api/audit?limit=100', { token: tokens['viewer'] });
      const actions = audit.body.items.map((e: { actor: string; action: string }) => `${e.actor}:${e.action}`);
      expect(actions).toEqual(expect.arrayContaining(['admin:token.create', 'publisher-1:pinset.create', 'operator-1:device.enrol']));
    });
  });

  describe('validation', () => {
    it.each([
      ['/api/tokens', { name: 'n', role: 'root' }, 'E_BAD_BODY'],
      ['/api/devices', { deviceId: 'has space', fleet: 'f', deviceClass: 'c' }, 'E_BAD_BODY'],
      ['/api/devices', { deviceId: 'd', fleet: 'f' }, 'E_BAD_BODY'],
      ['/api/pinsets', { target: { fleet: 'f' }, hosts: [] }, 'E_BAD_BODY'],
      ['/api/pinsets', { ...pinsetDraft('f'), surprise: 1 }, 'E_BAD_BODY'],
      ['/api/pinsets/envelope', { envelope: 42 }, 'E_BAD_BODY'],
      ['/api/keysets/rotate', { publicKeys: ['zz'] }, 'E_BAD_BODY'],
    ])('POST %s with a bad body → 400 %s', async (path, body, code) => {
      const res = await api(gw, 'POST', path, { token: gw.adminToken, body });
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe(code);
      expect(res.body.error.issues.length).toBeGreaterThan(0);
    });

    it('a body that is not JSON → 400 E_BAD_JSON; a bad query → 400 E_BAD_QUERY', async () => {
      const res = await api(gw, 'POST', '/api/devices', { token: gw.adminToken, rawBody: '{nope' });
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('E_BAD_JSON');
      const q = await api(gw, 'GET', '/api/devices?limit=0', { token: gw.adminToken });
      expect(q.status).toBe(400);
      expect(q.body.error.code).toBe('E_BAD_QUERY');
    });

    it('a pin set breaking SPEC §2 (rule of two) → 400 E_SCHEMA', async () => {
      const body = pinsetDraft('fleet-s', { hosts: [{ name: 'x.example.com', includeSubdomains: false, pins: [OTHER_PIN], enforce: true }] });
      const res = await api(gw, 'POST', '/api/pinsets', { token: gw.adminToken, body });
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('E_SCHEMA');
    });

    it('a seq that is not above the fleet latest → 409 E_SEQ', async () => {
      expect((await api(gw, 'POST', '/api/pinsets', { token: gw.adminToken, body: pinsetDraft('fleet-q', { seq: 5 }) })).status).toBe(201);
      const res = await api(gw, 'POST', '/api/pinsets', { token: gw.adminToken, body: pinsetDraft('fleet-q', { seq: 5 }) });
      expect(res.status).toBe(409);
      expect(res.body.error.code).toBe('E_SEQ');
    });

    it('unknown routes and ids → 404', async () => {
      expect((await api(gw, 'GET', '/api/nothing', { token: gw.adminToken })).status).toBe(404);
      expect((await api(gw, 'GET', '/api/devices/none', { token: gw.adminToken })).body.error.code).toBe('E_NOT_FOUND');
      expect((await api(gw, 'GET', '/api/pinsets/999', { token: gw.adminToken })).status).toBe(404);
    });
  });

  describe('live check of enforced hosts', () => {
    const enforced = (pins: string[]) =>
      pinsetDraft('fleet-live', { hosts: [{ name: LIVE_HOST, includeSubdomains: false, pins, enforce: true }] });

    it('refuses a set that does not pin the key the host serves now: 422 E_WOULD_BRICK', async () => {
      const res = await api(gw, 'POST', '/api/pinsets', { token: tokens['publisher'], body: enforced([OTHER_PIN, OTHER_PIN_2]) });
      expect(res.status).toBe(422);
      expect(res.body.error.code).toBe('E_WOULD_BRICK');
      expect(res.body.error.liveCheck).toEqual([expect.objectContaining({ host: LIVE_HOST, port: 443, status: 'would-brick' })]);
      expect((await api(gw, 'GET', '/api/pinsets?fleet=fleet-live', { token: tokens['viewer'] })).body).toEqual([]);
    });

    it('accepts a set pinning the live key and shows the check', async () => {
      const res = await api(gw, 'POST', '/api/pinsets', { token: tokens['publisher'], body: enforced([livePin, OTHER_PIN]) });
      expect(res.status).toBe(201);
      expect(res.body.liveCheck).toEqual([expect.objectContaining({ host: LIVE_HOST, status: 'ok' })]);
    });

    it('an unreachable enforced host is a warning in the answer, not a pass', async () => {
      const body = pinsetDraft('fleet-live', { hosts: [{ name: 'down.example.test', includeSubdomains: false, pins: [OTHER_PIN, OTHER_PIN_2], enforce: true }] });
      const res = await api(gw, 'POST', '/api/pinsets', { token: tokens['publisher'], body });
      expect(res.status).toBe(201);
      expect(res.body.liveCheck).toEqual([expect.objectContaining({ host: 'down.example.test', status: 'unreachable' })]);
    });
  });

  describe('offline-signed envelopes', () => {
    const nowS = () => Math.floor(Date.now() / 1000);
    const signed = (seq: number, key = readSignerKey(`${gw.dataDir}/backup-signer.key`)!) => {
      const p = pinSetFromJson({ format: 1, seq, issuedAt: nowS(), notAfter: nowS() + 86_400, keysetVersion: 1, ...pinsetDraft('fleet-off') });
      if (!p.ok) throw new Error(p.error);
      return signPinSet(p.value, key);
    };
    const upload = (envelope: Uint8Array) =>
      api(gw, 'POST', '/api/pinsets/envelope', { token: tokens['publisher'], body: { envelope: Buffer.from(envelope).toString('base64') } });

    it('accepts an envelope signed by the offline backup signer of the keyset', async () => {
      const res = await upload(signed(1));
      expect(res.status).toBe(201);
      expect(res.body).toMatchObject({ fleet: 'fleet-off', seq: 1, keysetVersion: 1 });
    });

    it('refuses a bad signature with 422 E_SIG', async () => {
      const envelope = signed(2);
      envelope[envelope.length - 1] = envelope.at(-1)! ^ 0x01; // last byte of the Ed25519 signature
      const res = await upload(envelope);
      expect(res.status).toBe(422);
      expect(res.body.error.code).toBe('E_SIG');
    });

    it('refuses a key outside the keyset (E_KID) and bytes that are not COSE (400)', async () => {
      const res = await upload(signed(2, generateSignerKey()));
      expect(res.status).toBe(422);
      expect(res.body.error.code).toBe('E_KID');
      const junk = await upload(new Uint8Array([1, 2, 3]));
      expect(junk.status).toBe(400);
      expect(['E_CBOR', 'E_NOT_COSE']).toContain(junk.body.error.code);
      const huge = await upload(new Uint8Array(16_385));
      expect(huge.status).toBe(400);
      expect(huge.body.error.code).toBe('E_SIZE');
    });
  });

  describe('keyset rotation and other reads', () => {
    it('rotates the keyset (signed by the gateway) and refuses a forged offline keyset', async () => {
      const before = (await api(gw, 'GET', '/api/keysets', { token: tokens['viewer'] })).body;
      expect(before).toHaveLength(1);
      expect(before[0].publicKeys).toContain(gw.signerPublicKey);
      const extra = toHex(generateSignerKey().publicKey);
      // admin only (issue 17); leaving out the backup signer is said explicitly, with a reason
      const rotated = await api(gw, 'POST', '/api/keysets/rotate', {
        token: gw.adminToken,
        body: { publicKeys: [gw.signerPublicKey, extra], removeSigners: true, reason: 'test: new backup' },
      });
      expect(rotated.status).toBe(200);
      expect(rotated.body).toMatchObject({ version: 2, gatewayCanSign: true });

      const outsider = generateSignerKey();
      const forged = signKeyset({ format: 1, version: 3, publicKeys: [outsider.publicKey, generateSignerKey().publicKey], issuedAt: 1 }, outsider);
      const res = await api(gw, 'POST', '/api/keysets/rotate', {
        token: gw.adminToken,
        body: { publicKeys: [toHex(outsider.publicKey), extra], envelope: Buffer.from(forged).toString('base64') },
      });
      expect(res.status).toBe(422);
      expect(res.body.error.code).toBe('E_KID');
      // pin sets now carry keyset v2
      const p = await api(gw, 'POST', '/api/pinsets', { token: tokens['publisher'], body: pinsetDraft('fleet-k2') });
      expect(p.body.keysetVersion).toBe(2);
    });

    it('lists fleets and pages through devices', async () => {
      for (const id of ['pg-1', 'pg-2', 'pg-3']) {
        await api(gw, 'POST', '/api/devices', { token: tokens['operator'], body: { deviceId: id, fleet: 'fleet-pg', deviceClass: 'c', labels: ['lab'] } });
      }
      const page1 = await api(gw, 'GET', '/api/devices?fleet=fleet-pg&limit=2', { token: tokens['viewer'] });
      expect(page1.body.items.map((d: { deviceId: string }) => d.deviceId)).toEqual(['pg-1', 'pg-2']);
      const page2 = await api(gw, 'GET', `/api/devices?fleet=fleet-pg&limit=2&cursor=${page1.body.nextCursor}`, { token: tokens['viewer'] });
      expect(page2.body).toMatchObject({ items: [expect.objectContaining({ deviceId: 'pg-3' })], nextCursor: null });
      const fleets = await api(gw, 'GET', '/api/fleets', { token: tokens['viewer'] });
      expect(fleets.body).toEqual(expect.arrayContaining([{ fleet: 'fleet-pg', devices: 3, online: 0, latestSeq: 0 }]));
    });

    it('serves an OpenAPI 3.1 document without a token', async () => {
      const res = await api(gw, 'GET', '/api/openapi.json');
      expect(res.status).toBe(200);
      expect(res.body.openapi).toBe('3.1.0');
      expect(Object.keys(res.body.paths)).toEqual(expect.arrayContaining(['/api/devices', '/api/devices/{id}', '/api/pinsets', '/api/keysets/rotate']));
      expect(res.body.paths['/api/devices'].post.requestBody.content['application/json'].schema.required).toEqual(
        expect.arrayContaining(['deviceId', 'fleet', 'deviceClass']),
      );
    });
  });
});
