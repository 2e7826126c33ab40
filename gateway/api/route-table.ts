import type { AuditRepo, TokenIdentity, TokenRepo } from '../registry/repositories';
import type { Context, Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { z } from 'zod';
import { hashApiToken, roleAtLeast, type Role } from '../auth/api-tokens';
import { GatewayError } from './gateway-error';
import type { Clock } from '../clock';

/** A token's last use is written at most this often, so authentication is not a write per request (issue 17). */
export const TOKEN_TOUCH_EVERY_MS = 60_000;

export type ApiEnv = { Variables: { identity: TokenIdentity | null } };
export type ApiContext = Context<ApiEnv>;

type Input<S> = S extends z.ZodType ? z.output<S> : undefined;

export interface RouteSpec {
  method: 'get' | 'post' | 'delete';
  /** Hono path, e.g. /api/devices/:id */
  path: string;
  /** Lowest role allowed (admin > operator > publisher > viewer); null = no token needed. */
  role: Role | null;
  summary: string;
  body?: z.ZodType;
  /** An empty body counts as `{}` (e.g. rollout actions whose only field is optional). */
  optionalBody?: boolean;
  query?: z.ZodType;
  /** Status of the success answer (OpenAPI). */
  status?: number;
  /** Largest request body accepted, in bytes (default DEFAULT_MAX_BODY_BYTES); checked before buffering. */
  maxBodyBytes?: number;
  /**
   * The success answer's schema (api-contract/, issue 15): OpenAPI `responses`, parsed by the dashboard and by the
   * contract test. Required: a route without a described answer does not compile.
   */
  response: z.ZodType;
  /** The answer is not JSON (e.g. text/event-stream). */
  contentType?: string;
}

/** Every JSON body of the API but the bulk ones (device id lists) fits in 64 KiB; a bigger one is refused unread. */
export const DEFAULT_MAX_BODY_BYTES = 64 * 1024;

const tooLarge = (max: number) => () => {
  throw new GatewayError('E_TOO_LARGE', `the request body is over ${max} bytes`, { maxBytes: max });
};

/**
 * Every API route is declared once here: its role, its body and query schemas (zod), and its handler. The same
 * declarations produce /api/openapi.json, so the document cannot drift from what the routes check.
 */
export class RouteTable {
  readonly specs: RouteSpec[] = [];
  /** token name → when its last use was written (per process; bounded by the number of tokens). */
  private readonly touched = new Map<string, number>();

  constructor(
    private readonly app: Hono<ApiEnv>,
    private readonly tokens: TokenRepo,
    private readonly clock: Clock,
    /** Where a refused write (403) is recorded: who tried what (issue 15). */
    private readonly audit?: AuditRepo,
  ) {}

  add<B extends z.ZodType | undefined = undefined, Q extends z.ZodType | undefined = undefined>(
    spec: RouteSpec & { body?: B; query?: Q },
    handler: (c: ApiContext, input: { body: Input<B>; query: Input<Q>; actor: string }) => Response | Promise<Response>,
  ): void {
    this.specs.push(spec);
    const maxBytes = spec.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
    // bodyLimit refuses on Content-Length, or counts a chunked body as it streams: nothing over the cap is buffered
    this.app[spec.method](spec.path, bodyLimit({ maxSize: maxBytes, onError: tooLarge(maxBytes) }), async (c) => {
      const identity = await this.authenticate(c, spec);
      const query = spec.query ? parse(spec.query, c.req.query(), 'query') : undefined;
      let body: unknown = undefined;
      if (spec.body) {
        let raw: unknown;
        const text = await readText(c);
        if (spec.optionalBody === true && text.trim() === '') raw = {};
        else {
          try {
            raw = JSON.parse(text);
          } catch {
            throw new GatewayError('E_BAD_JSON', 'the body must be a JSON document');
          }
        }
        body = parse(spec.body, raw, 'body');
      }
      return handler(c, { body: body as Input<B>, query: query as Input<Q>, actor: identity?.name ?? 'anonymous' });
    });
  }

  private async authenticate(c: ApiContext, spec: RouteSpec): Promise<TokenIdentity | null> {
    const role = spec.role;
    if (role === null) return null;
    const header = c.req.header('authorization');
    const match = header === undefined ? null : /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!match?.[1]) throw new GatewayError('E_UNAUTHORIZED', 'a bearer token is required');
    const identity = await this.tokens.lookup(hashApiToken(match[1]));
    if (!identity) throw new GatewayError('E_UNAUTHORIZED', 'unknown or revoked token');
    const now = this.clock.now();
    // an expired token is refused like an unknown one: 401, never 403 (it proves no identity any more)
    if (identity.expiresAt !== null && now >= identity.expiresAt) throw new GatewayError('E_UNAUTHORIZED', `the token "${identity.name}" has expired`);
    const last = this.touched.get(identity.name);
    if (last === undefined || now - last >= TOKEN_TOUCH_EVERY_MS) {
      this.touched.set(identity.name, now);
      await this.tokens.touch(identity.name, now);
    }
    if (!roleAtLeast(identity.role, role)) {
      // A write refused for the caller's role is audited (a read is not: viewers browse, that is no event).
      if (spec.method === 'post' && this.audit !== undefined) {
        await this.audit.append(identity.name, 'access.refused', `${spec.method.toUpperCase()} ${c.req.path}`, { role: identity.role, needs: role });
      }
      throw new GatewayError('E_FORBIDDEN', `this needs the ${role} role; the token "${identity.name}" is ${identity.role}`);
    }
    c.set('identity', identity);
    return identity;
  }
}

/** The body as text; a client that goes away mid-body is E_ABORTED (its problem, not the gateway's). */
async function readText(c: ApiContext): Promise<string> {
  try {
    return await c.req.text();
  } catch (err) {
    if (isAbort(c, err)) throw new GatewayError('E_ABORTED', 'the client closed the request before its body ended');
    throw err;
  }
}

/** Whether a failure is the client's going away (aborted request, reset socket) rather than the gateway's. */
export function isAbort(c: Context, err: unknown): boolean {
  if (c.req.raw.signal.aborted) return true;
  const e = err as { name?: string; code?: string; message?: string; cause?: unknown } | null;
  if (e === null || typeof e !== 'object') return false;
  if (e.name === 'AbortError' || e.code === 'ECONNRESET' || e.code === 'ERR_STREAM_PREMATURE_CLOSE' || e.message === 'aborted') return true;
  return e.cause !== undefined && e.cause !== err && isAbort(c, e.cause);
}

function parse(schema: z.ZodType, value: unknown, where: 'body' | 'query'): unknown {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issues = result.error.issues.map((i) => ({ path: [where, ...i.path.map(String)].join('.'), message: i.message }));
  throw new GatewayError(where === 'body' ? 'E_BAD_BODY' : 'E_BAD_QUERY', `invalid ${where}: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`, {
    issues,
  });
}
