/** app.request() helpers for the dashboard tests: log in, post forms with the CSRF token, read cookies. */
import type { Hono } from 'hono';

export const ORIGIN = 'http://localhost';

type App = Pick<Hono, 'request'>;

export function cookiesOf(res: Response): string {
  return res.headers
    .getSetCookie()
    .map((c) => c.split(';')[0])
    .join('; ');
}

export function csrfOf(html: string): string {
  const m = /name="_csrf" value="([^"]+)"/.exec(html);
  if (!m?.[1]) throw new Error('no CSRF token in page');
  return m[1];
}

export function formBody(fields: Record<string, string>): string {
  return new URLSearchParams(fields).toString();
}

export interface LoggedIn {
  cookie: string;
  csrf: string;
  get(path: string): Promise<Response>;
  post(path: string, fields?: Record<string, string>, headers?: Record<string, string>): Promise<Response>;
}

export async function login(app: App, token: string): Promise<LoggedIn> {
  const page = await app.request('/login');
  const loginCookie = cookiesOf(page);
  const res = await app.request('/login', {
    method: 'POST',
    headers: { origin: ORIGIN, cookie: loginCookie, 'content-type': 'application/x-www-form-urlencoded' },
    body: formBody({ _csrf: csrfOf(await page.text()), token, next: '/' }),
  });
  if (res.status !== 303) throw new Error(`log-in failed: ${res.status} ${await res.text()}`);
  const cookie = cookiesOf(res)
    .split('; ')
    .filter((c) => c.startsWith('pgw_session=') || c.startsWith('__Host-pgw_session='))
    .join('; ');
  const home = await app.request('/', { headers: { cookie } });
  const csrf = csrfOf(await home.text());
  return {
    cookie,
    csrf,
    get: async (path) => app.request(path, { headers: { cookie } }),
    post: async (path, fields = { _csrf: csrf }, headers = {}) =>
      app.request(path, {
        method: 'POST',
        headers: { origin: ORIGIN, cookie, 'content-type': 'application/x-www-form-urlencoded', ...headers },
        body: formBody(fields),
      }),
  };
}
