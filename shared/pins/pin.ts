import { createHash, X509Certificate } from 'node:crypto';
import { err, ok, type Result } from '../result';

/** SPEC §1: a pin is SHA-256 over the DER SubjectPublicKeyInfo of a key (RFC 7469 §2.4): 32 bytes. */
export const PIN_BYTES = 32;
const PREFIX = 'sha256/';

export function pinFromSpki(spkiDer: Uint8Array): Uint8Array {
  if (!(spkiDer instanceof Uint8Array) || spkiDer.length === 0) {
    throw new TypeError('pinFromSpki: "spkiDer" must be a non-empty Uint8Array');
  }
  return new Uint8Array(createHash('sha256').update(spkiDer).digest());
}

/**
 * The DER SPKI of a certificate's key. `PeerCertificate.pubkey` is SPKI only for RSA keys (docs/library-notes.md),
 * so the key is always taken through X509Certificate.
 */
export function spkiFromCertificate(cert: string | Uint8Array): Uint8Array {
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(typeof cert === 'string' ? cert : Buffer.from(cert));
  } catch (e) {
    throw new TypeError(`spkiFromCertificate: "cert" is not a PEM or DER certificate (${(e as Error).message})`);
  }
  return new Uint8Array(x509.publicKey.export({ type: 'spki', format: 'der' }));
}

export function pinFromCertificate(cert: string | Uint8Array): Uint8Array {
  return pinFromSpki(spkiFromCertificate(cert));
}

/** Text form everywhere a person reads one: `sha256/` + base64, as OkHttp and Android NSC write it. */
export function formatPin(pin: Uint8Array): string {
  if (!(pin instanceof Uint8Array) || pin.length !== PIN_BYTES) {
    throw new TypeError(`formatPin: "pin" must be ${PIN_BYTES} bytes`);
  }
  return PREFIX + Buffer.from(pin).toString('base64');
}

const BASE64_32 = /^[A-Za-z0-9+/]{43}=$/;

/** Parses `sha256/<base64 of 32 bytes>`; anything else (other hash, url-safe alphabet, wrong length) is refused. */
export function parsePin(text: string): Result<Uint8Array, string> {
  if (typeof text !== 'string') return err('pin must be a string');
  if (!text.startsWith(PREFIX)) return err(`pin "${clip(text)}" must start with "${PREFIX}"`);
  const b64 = text.slice(PREFIX.length);
  if (!BASE64_32.test(b64)) return err(`pin "${clip(text)}" must be standard base64 of 32 bytes (44 characters)`);
  const bytes = new Uint8Array(Buffer.from(b64, 'base64'));
  // Reject non-zero padding bits so that each pin has exactly one text form.
  if (bytes.length !== PIN_BYTES || formatPin(bytes) !== text) return err(`pin "${clip(text)}" is not canonical base64`);
  return ok(bytes);
}

function clip(s: string): string {
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}
