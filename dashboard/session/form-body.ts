/**
 * Reading the dashboard's form posts (issue 17). Every POST body is capped before it is buffered
 * (`formBodyLimit`, 413 E_TOO_LARGE), and a body that does not parse as a form — a malformed multipart, a
 * missing boundary — is the sender's mistake: 400 E_BAD_FORM, never a 500. CSRF failures stay 403 (./csrf.ts).
 */
import type { Context, MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { HTTPException } from 'hono/http-exception';

/** The dashboard's forms are a token, a reason, a CSRF field: 64 KiB is far above any of them. */
export const MAX_FORM_BYTES = 64 * 1024;

export type FormFields = Record<string, string | File | (string | File)[]>;

const refuse = (status: 400 | 413, code: string, message: string): never => {
  throw new HTTPException(status, { res: new Response(`${code}: ${message}`, { status, headers: { 'content-type': 'text/plain; charset=utf-8' } }) });
};

/** Caps every non-API request body (the API has its own caps per route, gateway/api/route-table.ts). */
export function formBodyLimit(isApiPath: (path: string) => boolean): MiddlewareHandler {
  const limit = bodyLimit({ maxSize: MAX_FORM_BYTES, onError: () => refuse(413, 'E_TOO_LARGE', `form bodies are at most ${MAX_FORM_BYTES} bytes`) });
  return (c, next) => (isApiPath(c.req.path) ? next() : limit(c, next));
}

/** The parsed form (urlencoded or multipart); 400 E_BAD_FORM when it does not parse. Cached by hono per request. */
export async function readForm(c: Context): Promise<FormFields> {
  // an empty body is a form with no fields (hono's multipart parser throws on it): the CSRF check then says 403
  if (c.req.header('content-length') === '0') return {};
  try {
    return (await c.req.parseBody({ all: true })) as FormFields;
  } catch (err) {
    if (err instanceof HTTPException) throw err;
    return refuse(400, 'E_BAD_FORM', 'the form body could not be read');
  }
}
