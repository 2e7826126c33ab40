/**
 * Operator sessions. Log-in with an API token (operator, viewer, …): the dashboard checks it by calling the API,
 * then keeps it server-side in an in-memory map keyed by a random 256-bit id. The browser only holds that id in a
 * cookie (HttpOnly, SameSite=Strict, Path=/, Secure and `__Host-` prefixed when secureCookies). Sessions expire
 * after an idle time and an absolute lifetime, and are dropped at log-out or when the API stops accepting the
 * token (401). The log-in and log-out routes are in ./routes/login-routes.tsx. A gateway restart logs everyone out: the map is memory only, by design (decisions-dashboard.md).
 */
import { randomBytes } from 'node:crypto';
import type { Context } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import type { Identity } from '../api/api-types';
import type { Clock } from '../clock';

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
  /**
   * Sessions per API token: beyond this many, that token's oldest session is dropped. Per token, never global:
   * logging in again and again with one token can only evict that token's own sessions (issue 17). Memory is
   * bounded by tokens × this (tokens are created by an admin).
   */
  readonly maxSessionsPerToken: number;
}

export const DEFAULT_SESSION_LIMITS: SessionLimits = {
  idleMs: 8 * 3_600_000,
  maxAgeMs: 7 * 24 * 3_600_000,
  maxSessionsPerToken: 20,
};

export const randomId = (): string => randomBytes(32).toString('base64url');

export class SessionStore {
  readonly #sessions = new Map<string, Session>();
  /** Session ids per token, oldest first (Set keeps insertion order). */
  readonly #byToken = new Map<string, Set<string>>();

  constructor(
    readonly clock: Clock,
    readonly limits: SessionLimits = DEFAULT_SESSION_LIMITS,
  ) {}

  create(token: string, identity: Identity): Session {
    const now = this.clock.now();
    const session: Session = { id: randomId(), token, identity, csrf: randomId(), createdAt: now, lastSeen: now };
    this.#sessions.set(session.id, session);
    const ids = this.#byToken.get(token) ?? new Set<string>();
    this.#byToken.set(token, ids);
    ids.add(session.id);
    for (const id of ids) {
      if (ids.size <= this.limits.maxSessionsPerToken) break;
      this.delete(id);
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
      this.delete(id);
      return undefined;
    }
    s.lastSeen = now;
    return s;
  }

  delete(id: string): void {
    const s = this.#sessions.get(id);
    if (s === undefined) return;
    this.#sessions.delete(id);
    const ids = this.#byToken.get(s.token);
    ids?.delete(id);
    if (ids?.size === 0) this.#byToken.delete(s.token);
  }

  /** Live sessions of one token (tests, and the cap above). */
  countFor(token: string): number {
    return this.#byToken.get(token)?.size ?? 0;
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
