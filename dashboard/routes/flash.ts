/**
 * The answer to an operator's action, shown on the page the action redirects to (post/redirect/get): a success
 * notice or the gateway's refusal. Kept in a short-lived cookie scoped to that page's path, and shown only while
 * the rollout is still in the state the answer was about (`stateKey`): once the state moves on (a gate advanced,
 * another operator acted), the next live refresh drops it, so "Advanced to the next wave." never lingers over a
 * state it no longer describes.
 */
import type { Context } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';

export interface Flash {
  readonly kind: 'ok' | 'error';
  readonly text: string;
  /** The state the text is about; the flash is dropped once the page's state differs. */
  readonly stateKey: string;
}

const COOKIE = 'pgw_flash';
/** Long enough to survive the redirect and a few live refreshes; the state check does the real expiry. */
const MAX_AGE_S = 120;
const MAX_TEXT = 400;

export function setFlash(c: Context, path: string, flash: Flash, secure: boolean): void {
  const value = Buffer.from(JSON.stringify({ ...flash, text: flash.text.slice(0, MAX_TEXT) }), 'utf8').toString('base64url');
  setCookie(c, COOKIE, value, { path, httpOnly: true, sameSite: 'Strict', secure, maxAge: MAX_AGE_S });
}

/**
 * The flash for this page if it still describes `stateKey`; a stale one is deleted. `once`: deleted after this
 * read too (a page with no state to tie it to, e.g. the pin-set list).
 */
export function takeFlash(c: Context, path: string, stateKey: string, secure: boolean, once = false): Flash | undefined {
  const raw = getCookie(c, COOKIE);
  if (raw === undefined) return undefined;
  let f: unknown;
  try {
    f = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8'));
  } catch {
    f = null;
  }
  const ok =
    typeof f === 'object' &&
    f !== null &&
    ((f as Flash).kind === 'ok' || (f as Flash).kind === 'error') &&
    typeof (f as Flash).text === 'string' &&
    (f as Flash).stateKey === stateKey;
  if (!ok) {
    deleteCookie(c, COOKIE, { path, secure });
    return undefined;
  }
  if (once) deleteCookie(c, COOKIE, { path, secure });
  return f as Flash;
}
