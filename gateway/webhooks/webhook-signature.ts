import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Webhook signatures: `x-pingw-signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>`.
 * The timestamp is inside the MAC, so a receiver that checks it against a replay window (REPLAY_WINDOW_SECONDS)
 * and remembers delivery ids (`x-pingw-delivery`) refuses a captured request played again later. Every attempt
 * is signed afresh (a retry an hour later still passes the window; its delivery id stays the same).
 */
export const SIGNATURE_HEADER = 'x-pingw-signature';
export const REPLAY_WINDOW_SECONDS = 300;

export function newWebhookSecret(): string {
  return `whsec_${randomBytes(32).toString('base64url')}`;
}

function mac(secret: string, t: number, body: string): string {
  return createHmac('sha256', secret).update(`${t}.${body}`).digest('hex');
}

export function signWebhook(secret: string, body: string, nowSeconds: number): string {
  return `t=${nowSeconds},v1=${mac(secret, nowSeconds, body)}`;
}

export type SignatureCheck = { ok: true; t: number } | { ok: false; code: 'E_SIG_FORMAT' | 'E_SIG_STALE' | 'E_SIG_MISMATCH'; detail: string };

/** What a receiver runs (the tests' receiver does): format, replay window, then the MAC in constant time. */
export function verifyWebhook(
  secret: string,
  header: string | undefined,
  body: string,
  nowSeconds: number,
  windowSeconds = REPLAY_WINDOW_SECONDS,
): SignatureCheck {
  const m = header === undefined ? null : /^t=(\d{1,12}),v1=([0-9a-f]{64})$/.exec(header);
  if (m === null) return { ok: false, code: 'E_SIG_FORMAT', detail: `expected "t=<unix seconds>,v1=<64 hex>"` };
  const t = Number(m[1]);
  if (Math.abs(nowSeconds - t) > windowSeconds) return { ok: false, code: 'E_SIG_STALE', detail: `timestamp ${t} is outside ±${windowSeconds} s of ${nowSeconds}` };
  const want = Buffer.from(mac(secret, t, body), 'hex');
  const got = Buffer.from(m[2] as string, 'hex');
  if (!timingSafeEqual(want, got)) return { ok: false, code: 'E_SIG_MISMATCH', detail: 'HMAC does not match' };
  return { ok: true, t };
}
