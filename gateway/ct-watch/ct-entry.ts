import { X509Certificate } from 'node:crypto';
import { formatPin, pinFromCertificate } from '../../shared/index';

/** A certificate found in a log, as the CT watch keeps it. */
export interface LoggedCertificate {
  log: string;
  index: number;
  entryType: 'x509' | 'precert';
  /** DNS names: the subjectAltName dNSNames, or the subject CN when there are none. */
  names: string[];
  pin: string;
  issuer: string;
  serial: string;
  notBefore: string;
  notAfter: string;
  /** Log timestamp (ms since the epoch, RFC 6962 §3.4). */
  loggedAt: number;
}

class Reader {
  private at = 0;
  constructor(private readonly b: Uint8Array) {}
  uint(n: number): number {
    if (this.at + n > this.b.length) throw new Error('truncated');
    let v = 0;
    for (let i = 0; i < n; i++) v = v * 256 + (this.b[this.at + i] as number);
    this.at += n;
    return v;
  }
  bytes(n: number): Uint8Array {
    if (this.at + n > this.b.length) throw new Error('truncated');
    const out = this.b.subarray(this.at, this.at + n);
    this.at += n;
    return out;
  }
  /** opaque<…> with an n-byte length prefix (RFC 5246 §4.3). */
  vector(lenBytes: number): Uint8Array {
    return this.bytes(this.uint(lenBytes));
  }
  get done(): boolean {
    return this.at === this.b.length;
  }
}

function namesOf(cert: X509Certificate): string[] {
  const san = cert.subjectAltName;
  if (san !== undefined && san.length > 0) {
    return san.split(', ').filter((s) => s.startsWith('DNS:')).map((s) => s.slice(4).toLowerCase());
  }
  const cn = /(?:^|\n)CN=([^\n]+)/.exec(cert.subject)?.[1];
  return cn === undefined ? [] : [cn.toLowerCase()];
}

/**
 * Parses one get-entries entry (RFC 6962 §3.4 MerkleTreeLeaf in leaf_input, §4.6 extra_data). An x509 entry
 * carries the certificate in the leaf; a precert entry carries only the TBSCertificate there, so the
 * pre-certificate of extra_data (same key, names, serial and dates) is read instead. Throws on malformed input;
 * the watch records that as a log problem.
 */
export function parseEntry(log: string, index: number, leafInput: Uint8Array, extraData: Uint8Array): LoggedCertificate {
  const r = new Reader(leafInput);
  const version = r.uint(1);
  const leafType = r.uint(1);
  if (version !== 0 || leafType !== 0) throw new Error(`entry ${index}: MerkleTreeLeaf version ${version} / leaf type ${leafType} is not v1 timestamped_entry`);
  const loggedAt = r.uint(8);
  const entryType = r.uint(2);
  let der: Uint8Array;
  if (entryType === 0) {
    der = r.vector(3);
  } else if (entryType === 1) {
    r.bytes(32); // issuer_key_hash
    r.vector(3); // TBSCertificate
    der = new Reader(extraData).vector(3); // PrecertChainEntry.pre_certificate
  } else {
    throw new Error(`entry ${index}: unknown LogEntryType ${entryType}`);
  }
  r.vector(2); // CtExtensions
  if (!r.done) throw new Error(`entry ${index}: trailing bytes in leaf_input`);
  const cert = new X509Certificate(der);
  return {
    log,
    index,
    entryType: entryType === 0 ? 'x509' : 'precert',
    names: namesOf(cert),
    pin: formatPin(pinFromCertificate(der)),
    issuer: cert.issuer.replace(/\n/g, ', '),
    serial: cert.serialNumber,
    notBefore: new Date(cert.validFrom).toISOString(),
    notAfter: new Date(cert.validTo).toISOString(),
    loggedAt,
  };
}
