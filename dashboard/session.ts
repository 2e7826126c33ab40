/**
 * Operator sessions. Log-in with an API token (operator, viewer, …): the dashboard checks it by calling the API,
 * then keeps it server-side in an in-memory map keyed by a random 256-bit id. The browser only holds that id in a
 * cookie (HttpOnly, SameSite=Strict, Path=/, Secure and `__Host-` prefixed when secureCookies). Sessions expire
 * after an idle time and an absolute lifetime, and are dropped at log-out or when the API stops accepting the
 * token (401). A gateway restart logs everyone out: the map is memory only, by design (decisions-dashboard.md).
 */
import { randomBytes } from 'node:crypto';
import { Hono, type Context, type MiddlewareHandler } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import type { ApiClient, GatewayApi } from './api-client';
import type { Identity } from './api-types';
import { CSRF_FIELD, formField, originCheck, tokensEqual } from './csrf';
import type { Clock, DashboardEnv } from './env';
import { LoginPage } from './pages/login';

export interface Session {
  readonly id: string;
  readonly token: string;
  readonly identity: Identity;
  /** Per-session CSRF token, put in every form and checked on every POST. */
  readonly csrf: string;
  readonly createdAt: number;
  lastSeen: number;
}

export interface SessionLimits {
  readonly idleMs: number;
  readonly maxAgeMs: number;
  /** Oldest sessions are evicted beyond this many (memory bound). */
  readonly maxSessions: number;
}

export const DEFAULT_SESSION_LIMITS: SessionLimits = {
  idleMs: 8 * 3_600_000,
  maxAgeMs: 7 * 24 * 3_600_000,
  maxSessions: 10_000,
};

export const randomId = (): string => randomBytes(32).toString('base64url');

export class SessionStore {
  readonly #sessions = new Map<string, Session>();

  constructor(
    readonly clock: Clock,
    readonly limits: SessionLimits = DEFAULT_SESSION_LIMITS,
  ) {}

  create(token: string, identity: Identity): Session {
    const now = this.clock.now();
    const session: Session = { id: randomId(), token, identity, csrf: randomId(), createdAt: now, lastSeen: now };
    this.#sessions.set(session.id, session);
    while (this.#sessions.size > this.limits.maxSessions) {
      const oldest = this.#sessions.keys().next();
      if (oldest.done === true) break;
      this.#sessions.delete(oldest.value);
    }
    return session;
  }

  /** The live session for an id (touching it), or undefined when unknown or expired. */
  get(id: string | undefined): Session | undefined {
    if (id === undefined || id === '') return undefined;
    const s = this.#sessions.get(id);
    if (s === undefined) return undefined;
    const now = this.clock.now();
    if (now - s.lastSeen > this.limits.idleMs || now - s.createdAt > this.limits.maxAgeMs) {
      this.#sessions.delete(id);
      return undefined;
    }
    s.lastSeen = now;
    return s;
  }

  delete(id: string): void {
    this.#sessions.delete(id);
  }

  get size(): number {
    return this.#sessions.size;
  }
}

export function sessionCookieName(secure: boolean): string {
  return secure ? '__Host-pgw_session' : 'pgw_session';
}

export function setSessionCookie(c: Context, session: Session, secure: boolean, maxAgeMs: number): void {
  setCookie(c, sessionCookieName(secure), session.id, {
    httpOnly: true,
    sameSite: 'Strict',
    secure,
    path: '/',
    maxAge: Math.floor(maxAgeMs / 1000),
  });
}

export function clearSessionCookie(c: Context, secure: boolean): void {
  deleteCookie(c, sessionCookieName(secure), { path: '/', secure, httpOnly: true, sameSite: 'Strict' });
}

export function currentSession(c: Context, store: SessionStore, secure: boolean): Session | undefined {
  return store.get(getCookie(c, sessionCookieName(secure)));
}

/** Only same-site relative paths are followed after log-in (no open redirect). */
export function safeNext(next: string | undefined): string {
  if (next === undefined || !next.startsWith('/') || next.startsWith('//') || next.startsWith('/\\')) return '/';
  if (next.startsWith('/login') || next.startsWith('/logout') || next.startsWith('/events')) return '/';
  return next;
}

/**
 * Every page but /login and /assets needs a session. Without one, GET pages redirect to /login?next=…; POSTs and
 * the event stream get 401.
 */
export function requireSession(store: SessionStore, gateway: GatewayApi, secure: boolean): MiddlewareHandler<DashboardEnv> {
  return async (c, next) => {
    const session = currentSession(c, store, secure);
    if (session === undefined) {
      if (c.req.method !== 'GET' || c.req.path === '/events') return c.text('log-in required', 401);
      const url = new URL(c.req.url);
      return c.redirect(`/login?next=${encodeURIComponent(url.pathname + url.search)}`, 303);
    }
    c.set('session', session);
    const api: ApiClient = gateway.forToken(session.token);
    c.set('api', api);
    await next();
  };
}

/** Log-in form CSRF: a double-submit cookie (there is no session yet to hold a token). */
const loginCookieName = (secure: boolean) => (secure ? '__Host-pgw_login' : 'pgw_login');

export interface AuthDeps {
  readonly store: SessionStore;
  readonly gateway: GatewayApi;
  readonly secure: boolean;
}

/** GET/POST /login and POST /logout. */
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
    const form = await c.req.parseBody();
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
      const form = await c.req.parseBody();
      if (!tokensEqual(formField(form, CSRF_FIELD), session.csrf)) return c.text('CSRF token missing or wrong', 403);
      store.delete(session.id);
    }
    clearSessionCookie(c, secure);
    return c.redirect('/login', 303);
  });

  return app;
}
