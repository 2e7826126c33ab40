/**
 * CSRF protection, two independent layers on every POST:
 *  1. hono's origin check (`hono/csrf`): a form POST must come from this origin (Origin header) or say
 *     `Sec-Fetch-Site: same-origin`;
 *  2. a synchroniser token: every form carries `_csrf`, equal to the session's random token (the log-in form,
 *     which has no session yet, uses a double-submit cookie instead).
 * SameSite=Strict session cookies are a third layer, but not relied upon.
 */
import { timingSafeEqual } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import { csrf } from 'hono/csrf';
import type { DashboardEnv } from './env';
import { readForm } from './form-body';

export const CSRF_FIELD = '_csrf';

/** hono's origin / Sec-Fetch-Site check, refusing with 403. */
export function originCheck(): MiddlewareHandler {
  return csrf();
}

export function tokensEqual(a: string | undefined, b: string | undefined): boolean {
  if (a === undefined || b === undefined || a === '' || b === '') return false;
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}

/** A string form field (the first one), or undefined. */
export function formField(form: Record<string, unknown>, name: string): string | undefined {
  const v = form[name];
  if (typeof v === 'string') return v;
  if (Array.isArray(v) && typeof v[0] === 'string') return v[0];
  return undefined;
}

/** Refuses (403) any POST whose `_csrf` field is not the session's token. Runs after requireSession. */
export function requireCsrfToken(): MiddlewareHandler<DashboardEnv> {
  return async (c, next) => {
    if (c.req.method !== 'POST') return next();
    const type = (c.req.header('content-type') ?? '').toLowerCase();
    // a form that does not parse is 400 (readForm); a form without the right token is 403, multipart or not
    const form =
      type.startsWith('application/x-www-form-urlencoded') || type.startsWith('multipart/form-data') ? await readForm(c) : {};
    if (!tokensEqual(formField(form, CSRF_FIELD), c.get('session').csrf)) {
      return c.text('CSRF token missing or wrong: reload the page and try again', 403);
    }
    await next();
  };
}
