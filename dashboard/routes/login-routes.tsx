/** GET/POST /login and POST /logout: log-in with an API token checked against the gateway API (see ../session/session-store.ts). */
import { Hono, type Context } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import type { GatewayApi } from '../api/api-client';
import type { Identity } from '../api/api-types';
import { CSRF_FIELD, formField, originCheck, tokensEqual } from '../session/csrf';
import type { DashboardEnv } from '../session/env';
import { readForm } from '../session/form-body';
import { LoginPage } from '../pages/login';
import { clearSessionCookie, currentSession, randomId, safeNext, setSessionCookie, type SessionStore } from '../session/session-store';

/** Log-in form CSRF: a double-submit cookie (there is no session yet to hold a token). */
const loginCookieName = (secure: boolean) => (secure ? '__Host-pgw_login' : 'pgw_login');

export interface AuthDeps {
  readonly store: SessionStore;
  readonly gateway: GatewayApi;
  readonly secure: boolean;
}

export function authRoutes(deps: AuthDeps): Hono<DashboardEnv> {
  const { store, gateway, secure } = deps;
  const app = new Hono<DashboardEnv>();

  const renderLogin = (c: Context, next: string, status: 200 | 400 | 401 | 403 | 502, error?: string) => {
    const token = randomId();
    setCookie(c, loginCookieName(secure), token, { httpOnly: true, sameSite: 'Strict', secure, path: '/', maxAge: 3600 });
    c.header('cache-control', 'no-store');
    return c.html(LoginPage({ csrf: token, next, ...(error !== undefined ? { error } : {}) }), status);
  };

  app.get('/login', (c) => {
    const next = safeNext(c.req.query('next'));
    if (currentSession(c, store, secure) !== undefined) return c.redirect(next, 303);
    return renderLogin(c, next, 200);
  });

  app.post('/login', originCheck(), async (c) => {
    const form = await readForm(c);
    const next = safeNext(formField(form, 'next'));
    if (!tokensEqual(formField(form, CSRF_FIELD), getCookie(c, loginCookieName(secure)))) {
      return renderLogin(c, next, 403, 'The log-in form expired. Please try again.');
    }
    const token = (formField(form, 'token') ?? '').trim();
    if (token.length === 0 || token.length > 1024 || /\s/.test(token)) {
      return renderLogin(c, next, 400, 'Paste an API token.');
    }
    let identity: Identity | null;
    try {
      identity = await gateway.identify(token);
    } catch {
      return renderLogin(c, next, 502, 'The gateway API could not be reached. Try again in a moment.');
    }
    if (identity === null) return renderLogin(c, next, 401, 'The gateway did not accept this token.');
    const session = store.create(token, identity);
    setSessionCookie(c, session, secure, store.limits.maxAgeMs);
    deleteCookie(c, loginCookieName(secure), { path: '/', secure });
    return c.redirect(next, 303);
  });

  app.post('/logout', originCheck(), async (c) => {
    const session = currentSession(c, store, secure);
    if (session !== undefined) {
      const form = await readForm(c);
      if (!tokensEqual(formField(form, CSRF_FIELD), session.csrf)) return c.text('CSRF token missing or wrong', 403);
      store.delete(session.id);
    }
    clearSessionCookie(c, secure);
    return c.redirect('/login', 303);
  });

  return app;
}
