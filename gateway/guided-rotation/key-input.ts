import { createPublicKey, X509Certificate } from 'node:crypto';
import { formatPin, parsePin, pinFromSpki } from '../../shared/index';
import { err, ok, type Result } from '../../shared/index';

/** Reads one DER TLV at `at`: its tag, where its content starts and where it ends. */
function tlv(der: Uint8Array, at: number): { tag: number; start: number; end: number } {
  const tag = der[at];
  let len = der[at + 1];
  if (tag === undefined || len === undefined) throw new Error('truncated DER');
  let start = at + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4) throw new Error('unsupported DER length');
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + (der[start + i] ?? 0);
    start += n;
  }
  if (start + len > der.length) throw new Error('truncated DER');
  return { tag, start, end: start + len };
}

/**
 * The SubjectPublicKeyInfo of a PKCS#10 request (RFC 2986 §4.1): CertificationRequest → certificationRequestInfo
 * → {version, subject, subjectPKInfo, …}. Node parses certificates and keys but not CSRs; three TLV steps do.
 */
export function spkiFromCsr(der: Uint8Array): Uint8Array {
  const outer = tlv(der, 0);
  const info = tlv(der, outer.start);
  const version = tlv(der, info.start);
  const subject = tlv(der, version.end);
  const spki = tlv(der, subject.end);
  if (outer.tag !== 0x30 || info.tag !== 0x30 || version.tag !== 0x02 || subject.tag !== 0x30 || spki.tag !== 0x30) {
    throw new Error('not a PKCS#10 certification request');
  }
  return der.subarray(subject.end, spki.end);
}

function pemBody(text: string, label: string): Uint8Array | null {
  const m = new RegExp(`-----BEGIN ${label}-----([\\s\\S]*?)-----END ${label}-----`).exec(text);
  return m === null ? null : new Uint8Array(Buffer.from((m[1] as string).replace(/\s+/g, ''), 'base64'));
}

/**
 * A key to pin, as the operator has it before the server ever serves it (issue 16 §4): a pin (`sha256/…`), a
 * public key (PEM "PUBLIC KEY", e.g. acme.sh's `.next` key or `openssl pkey -pubout`), a CSR ("CERTIFICATE
 * REQUEST", e.g. from certbot `--reuse-key` or cert-manager with `rotationPolicy: Never`) or a certificate.
 */
export function pinFromKeyInput(input: string): Result<string, string> {
  const text = input.trim();
  if (text.startsWith('sha256/')) {
    const p = parsePin(text);
    return p.ok ? ok(formatPin(p.value)) : err(p.error);
  }
  try {
    const csr = pemBody(text, 'CERTIFICATE REQUEST') ?? pemBody(text, 'NEW CERTIFICATE REQUEST');
    if (csr !== null) return ok(formatPin(pinFromSpki(spkiFromCsr(csr))));
    if (text.includes('-----BEGIN CERTIFICATE-----')) {
      const spki = new X509Certificate(text).publicKey.export({ type: 'spki', format: 'der' });
      return ok(formatPin(pinFromSpki(new Uint8Array(spki))));
    }
    if (text.includes('-----BEGIN PUBLIC KEY-----') || text.includes('PRIVATE KEY-----')) {
      // a private key PEM yields its public half; the gateway never stores it
      const spki = createPublicKey(text).export({ type: 'spki', format: 'der' });
      return ok(formatPin(pinFromSpki(new Uint8Array(spki))));
    }
  } catch (e) {
    return err(`cannot read the key: ${(e as Error).message}`);
  }
  return err('expected a pin "sha256/…", a PEM public key, a PEM certificate request (CSR) or a PEM certificate');
}
