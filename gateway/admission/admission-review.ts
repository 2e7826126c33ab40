import { X509Certificate } from 'node:crypto';
import { formatPin, pinFromSpki } from '../../shared/index';

/** The parts of a Kubernetes AdmissionReview (admission.k8s.io/v1) request the admission endpoint reads. */
export interface AdmissionRequest {
  uid: string;
  operation: string;
  kind?: { group?: string | undefined; version?: string | undefined; kind?: string | undefined } | undefined;
  name?: string | undefined;
  namespace?: string | undefined;
  object?: unknown;
}

export interface AdmissionResponse {
  apiVersion: 'admission.k8s.io/v1';
  kind: 'AdmissionReview';
  response: { uid: string; allowed: boolean; status?: { code: number; reason?: string; message: string }; warnings?: string[] };
}

export function admissionResponse(uid: string, allowed: boolean, message: string, warnings: string[] = []): AdmissionResponse {
  return {
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    response: {
      uid,
      allowed,
      // Kubernetes shows status.message to the user who applied the Secret; 403 Forbidden for a refusal
      status: allowed ? { code: 200, message } : { code: 403, reason: 'Forbidden', message },
      // warnings are shown by kubectl; each kept under 120 characters as the API server asks
      ...(warnings.length > 0 ? { warnings: warnings.map((w) => (w.length > 120 ? `${w.slice(0, 117)}...` : w)) } : {}),
    },
  };
}

export type SecretKey =
  | { kind: 'not-tls'; why: string }
  | { kind: 'bad'; why: string }
  | { kind: 'tls'; pin: string; names: string[]; secret: string };

/**
 * The key a TLS Secret (type kubernetes.io/tls, data["tls.crt"] = base64 PEM chain, leaf first) would serve.
 * Anything that is not a TLS Secret is not this webhook's business ('not-tls'); a TLS Secret whose certificate
 * cannot be read is refused ('bad'): the pin gate cannot tell whether it is safe.
 */
export function keyOfSecret(object: unknown): SecretKey {
  if (typeof object !== 'object' || object === null) return { kind: 'not-tls', why: 'no object in the request' };
  const o = object as { kind?: unknown; type?: unknown; data?: unknown; metadata?: { name?: unknown; namespace?: unknown } };
  if (o.kind !== 'Secret') return { kind: 'not-tls', why: `a ${String(o.kind)}, not a Secret` };
  if (o.type !== 'kubernetes.io/tls') return { kind: 'not-tls', why: `a Secret of type ${String(o.type)}` };
  const secret = `${String(o.metadata?.namespace ?? '')}/${String(o.metadata?.name ?? '')}`;
  const crt = typeof o.data === 'object' && o.data !== null ? (o.data as Record<string, unknown>)['tls.crt'] : undefined;
  if (typeof crt !== 'string' || crt.length === 0) return { kind: 'bad', why: `TLS Secret ${secret} has no data["tls.crt"]` };
  try {
    const pem = Buffer.from(crt, 'base64').toString('utf8');
    const first = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/.exec(pem)?.[0];
    if (first === undefined) return { kind: 'bad', why: `data["tls.crt"] of ${secret} holds no PEM certificate` };
    const cert = new X509Certificate(first);
    const spki = cert.publicKey.export({ type: 'spki', format: 'der' });
    const san = cert.subjectAltName ?? '';
    const names = san.split(', ').filter((s) => s.startsWith('DNS:')).map((s) => s.slice(4).toLowerCase());
    const cn = /(?:^|\n)CN=([^\n]+)/.exec(cert.subject)?.[1];
    return { kind: 'tls', pin: formatPin(pinFromSpki(new Uint8Array(spki))), names: names.length > 0 ? names : cn === undefined ? [] : [cn.toLowerCase()], secret };
  } catch (e) {
    return { kind: 'bad', why: `data["tls.crt"] of ${secret} is not a readable certificate: ${(e as Error).message}` };
  }
}
