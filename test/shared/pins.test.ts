import { X509Certificate } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { fetchServerPins, formatPin, parsePin, pinFromCertificate, spkiFromCertificate } from '../../shared/index';
import { makeCert, opensslPin, startTlsServer } from '../support/tls';

describe('pins (SPEC §1, RFC 7469 §2.4)', () => {
  const ec = makeCert('api.test', 'ec');
  const rsa = makeCert('rsa.test', 'rsa');

  it('pins the SPKI of EC and RSA certificates exactly as openssl does, from PEM and DER', () => {
    for (const c of [ec, rsa]) {
      expect(formatPin(pinFromCertificate(c.certPem))).toBe(opensslPin(c.certPem));
      const der = new Uint8Array(new X509Certificate(c.certPem).raw);
      expect(formatPin(pinFromCertificate(der))).toBe(opensslPin(c.certPem));
    }
  });

  it('the RFC 7469 example pin parses and prints back unchanged', () => {
    const text = 'sha256/d6qzRu9zOECb90Uez27xWltNsj0e1Md7GkYYkVoZWmM=';
    const r = parsePin(text);
    expect(r.ok).toBe(true);
    if (r.ok) expect(formatPin(r.value)).toBe(text);
  });

  const bad: Array<[string, RegExp]> = [
    ['d6qzRu9zOECb90Uez27xWltNsj0e1Md7GkYYkVoZWmM=', /must start with "sha256\/"/],
    ['sha1/d6qzRu9zOECb90Uez27xWltNsj0e1Md7GkYYkVoZWmM=', /must start/],
    ['sha256/d6qzRu9zOECb90Uez27xWltNsj0e1Md7GkYYkVoZWm=', /44 characters/],
    ['sha256/d6qzRu9zOECb90Uez27xWltNsj0e1Md7GkYYkVoZWmM', /44 characters/],
    ['sha256/d6qzRu9zOECb90Uez27xWltNsj0e1Md7GkYYkVoZW_M=', /44 characters/],
    ['sha256/d6qzRu9zOECb90Uez27xWltNsj0e1Md7GkYYkVoZWmN=', /not canonical/],
    ['', /must start/],
  ];
  for (const [text, why] of bad) {
    it(`refuses pin text ${JSON.stringify(text)}`, () => {
      const r = parsePin(text);
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.error).toMatch(why);
    });
  }

  it('misuse throws naming the argument', () => {
    expect(() => formatPin(new Uint8Array(31))).toThrow(/"pin"/);
    expect(() => spkiFromCertificate('not a certificate')).toThrow(/"cert"/);
  });

  const servers: Array<{ close(): Promise<void> }> = [];
  afterAll(async () => Promise.all(servers.map((s) => s.close())));

  it('pins the key a live TLS server presents', async () => {
    const s = await startTlsServer(ec);
    servers.push(s);
    const served = await fetchServerPins('127.0.0.1', s.port, { servername: 'api.test' });
    expect(formatPin(served.leaf)).toBe(opensslPin(ec.certPem));
    expect(served.chain.length).toBeGreaterThanOrEqual(1);
  });

  it('a closed port is an error, not a pin', async () => {
    const s = await startTlsServer(ec);
    await s.close();
    await expect(fetchServerPins('127.0.0.1', s.port, { timeoutMs: 2000 })).rejects.toThrow(/failed|timed out/);
  });
});
