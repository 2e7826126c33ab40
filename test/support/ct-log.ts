/**
 * A real RFC 6962 log for tests: certificates made with the openssl CLI, a Merkle tree over them (RFC 6962 §2.1,
 * computed here independently of the gateway's code), STHs signed with an openssl-made ECDSA P-256 key, and the
 * JSON API (get-sth, get-entries, §4.3/§4.6) on a loopback port. get-entries answers at most `pageSize` entries,
 * as real logs cap it, so clients must page.
 */
import { execFileSync } from 'node:child_process';
import { createHash, createPrivateKey, createPublicKey, sign, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface CtCert {
  der: Buffer;
  pem: string;
  /** sha256/… of its SPKI, computed by openssl. */
  pin: string;
  keyPem: string;
  serial: string;
}

const run = (args: string[], input?: string) => execFileSync('openssl', args, { stdio: ['pipe', 'pipe', 'ignore'], ...(input === undefined ? {} : { input }) });

export class TestPki {
  readonly dir = mkdtempSync(join(tmpdir(), 'pingw-ct-pki-'));
  private n = 0;
  readonly ca: CtCert;

  constructor(caName = 'Test CT CA') {
    this.ca = this.make({ cn: caName, names: [], serial: '01', ca: true });
  }

  /** A leaf for `names` signed by the CA, a new P-256 key unless `keyPem` is given (a renewal that reuses a key). */
  leaf(names: string[], serial: string, keyPem?: string): CtCert {
    return this.make({ cn: names[0] ?? 'leaf', names, serial, ca: false, ...(keyPem === undefined ? {} : { keyPem }) });
  }

  private make(o: { cn: string; names: string[]; serial: string; ca: boolean; keyPem?: string }): CtCert {
    const i = this.n++;
    const key = join(this.dir, `k${i}.pem`);
    const csr = join(this.dir, `r${i}.csr`);
    const crt = join(this.dir, `c${i}.pem`);
    const ext = join(this.dir, `e${i}.cnf`);
    if (o.keyPem !== undefined) writeFileSync(key, o.keyPem);
    else run(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', key]);
    run(['req', '-new', '-key', key, '-subj', `/CN=${o.cn}`, '-out', csr]);
    writeFileSync(ext, o.ca ? 'basicConstraints=critical,CA:TRUE\nkeyUsage=keyCertSign\n' : `subjectAltName=${o.names.map((n) => `DNS:${n}`).join(',')}\n`);
    if (o.ca) run(['x509', '-req', '-in', csr, '-signkey', key, '-days', '30', '-set_serial', `0x${o.serial}`, '-extfile', ext, '-out', crt]);
    else {
      run(['x509', '-req', '-in', csr, '-CA', join(this.dir, 'c0.pem'), '-CAkey', join(this.dir, 'k0.pem'), '-days', '30', '-set_serial', `0x${o.serial}`, '-extfile', ext, '-out', crt]);
    }
    const pem = readFileSync(crt, 'utf8');
    const spki = execFileSync('sh', ['-c', 'openssl x509 -pubkey -noout | openssl pkey -pubin -outform der | openssl dgst -sha256 -binary | base64'], { input: pem });
    return { der: Buffer.from(new X509Certificate(pem).raw), pem, pin: `sha256/${spki.toString().trim()}`, keyPem: readFileSync(key, 'utf8'), serial: o.serial.toUpperCase() };
  }
}

function u(n: number, bytes: number): Buffer {
  const b = Buffer.alloc(bytes);
  if (bytes === 8) b.writeBigUInt64BE(BigInt(n));
  else b.writeUIntBE(n, 0, bytes);
  return b;
}
const vec = (data: Buffer, lenBytes: number) => Buffer.concat([u(data.length, lenBytes), data]);
const sha = (...parts: Buffer[]) => createHash('sha256').update(Buffer.concat(parts)).digest();

/** RFC 6962 §2.1 MTH, by the definition. */
function mth(leaves: Buffer[]): Buffer {
  if (leaves.length === 0) return sha();
  if (leaves.length === 1) return sha(Buffer.from([0]), leaves[0] as Buffer);
  let k = 1;
  while (k * 2 < leaves.length) k *= 2;
  return sha(Buffer.from([1]), mth(leaves.slice(0, k)), mth(leaves.slice(k)));
}

export class TestCtLog {
  private readonly leaves: Buffer[] = [];
  private readonly extra: Buffer[] = [];
  /** Entries served in place of the logged ones (a log that lies about its contents). */
  private readonly tampered = new Map<number, Buffer>();
  readonly keyPem: string;
  readonly publicKeyBase64: string;
  readonly requests: string[] = [];
  private server: Server | null = null;
  url = '';

  constructor(readonly pki: TestPki, readonly pageSize = 2) {
    this.keyPem = run(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256']).toString();
    this.publicKeyBase64 = createPublicKey(this.keyPem).export({ type: 'spki', format: 'der' }).toString('base64');
  }

  /** Logs a certificate as an x509_entry (or as a precert_entry with its pre-certificate in extra_data). */
  add(cert: CtCert, opts: { precert?: boolean; timestamp?: number } = {}): number {
    const ts = u(opts.timestamp ?? Date.now(), 8);
    const chain = vec(vec(this.pki.ca.der, 3), 3);
    if (opts.precert === true) {
      const issuerKeyHash = sha(Buffer.from(new X509Certificate(this.pki.ca.pem).publicKey.export({ type: 'spki', format: 'der' })));
      this.leaves.push(Buffer.concat([Buffer.from([0, 0]), ts, u(1, 2), issuerKeyHash, vec(cert.der, 3), u(0, 2)]));
      this.extra.push(Buffer.concat([vec(cert.der, 3), chain]));
    } else {
      this.leaves.push(Buffer.concat([Buffer.from([0, 0]), ts, u(0, 2), vec(cert.der, 3), u(0, 2)]));
      this.extra.push(chain);
    }
    return this.leaves.length - 1;
  }

  tamper(index: number, cert: CtCert): void {
    this.tampered.set(index, Buffer.concat([Buffer.from([0, 0]), u(Date.now(), 8), u(0, 2), vec(cert.der, 3), u(0, 2)]));
  }

  sth(): Record<string, unknown> {
    const size = this.leaves.length;
    const timestamp = Date.now();
    const root = mth(this.leaves);
    const signed = Buffer.concat([Buffer.from([0, 1]), u(timestamp, 8), u(size, 8), root]);
    const sig = sign('sha256', signed, createPrivateKey(this.keyPem));
    return { tree_size: size, timestamp, sha256_root_hash: root.toString('base64'), tree_head_signature: Buffer.concat([Buffer.from([4, 3]), vec(sig, 2)]).toString('base64') };
  }

  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      this.requests.push(`${url.pathname}${url.search}`);
      const json = (status: number, body: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
      };
      if (url.pathname === '/ct/v1/get-sth') return json(200, this.sth());
      if (url.pathname === '/ct/v1/get-entries') {
        const start = Number(url.searchParams.get('start'));
        const end = Number(url.searchParams.get('end'));
        if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || end < start || start >= this.leaves.length) return json(400, { error_message: 'bad range' });
        const last = Math.min(end, this.leaves.length - 1, start + this.pageSize - 1);
        const entries = [];
        for (let i = start; i <= last; i++) {
          entries.push({ leaf_input: (this.tampered.get(i) ?? (this.leaves[i] as Buffer)).toString('base64'), extra_data: (this.extra[i] as Buffer).toString('base64') });
        }
        return json(200, { entries });
      }
      json(404, { error_message: 'not found' });
    });
    await new Promise<void>((ok) => this.server!.listen(0, '127.0.0.1', ok));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/`;
    return this.url;
  }

  async stop(): Promise<void> {
    const s = this.server;
    this.server = null;
    if (s !== null) await new Promise<void>((ok) => s.close(() => ok()));
  }
}
