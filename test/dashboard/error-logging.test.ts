import { describe, expect, it } from 'vitest';
import { GatewayApi } from '../../dashboard/api/api-client';
import { createDashboard } from '../../dashboard/app';
import { cookiesOf, csrfOf, formBody, ORIGIN } from './helpers';

// An unexpected failure while building a page (here: the gateway API's transport throws) answers a plain 500 page and
// is logged through the logger the gateway injects, never console.error.
describe('dashboard errors', () => {
  it('logs an unexpected page failure through the injected logger and answers 500', async () => {
    const logged: { message: string; context?: Record<string, unknown> }[] = [];
    const api = new GatewayApi({
      fetch: async (req) => {
        if (new URL(req.url).pathname === '/api/whoami') return Response.json({ name: 'ops', role: 'operator' });
        throw new TypeError('socket hang up');
      },
    });
    const app = createDashboard({
      api,
      secureCookies: false,
      logger: { error: (message, context) => logged.push({ message, ...(context === undefined ? {} : { context }) }) },
    });
    const form = await app.request('/login');
    const res = await app.request('/login', {
      method: 'POST',
      headers: { origin: ORIGIN, cookie: cookiesOf(form), 'content-type': 'application/x-www-form-urlencoded' },
      body: formBody({ _csrf: csrfOf(await form.text()), token: 'tok', next: '/' }),
    });
    expect(res.status).toBe(303);
    const cookie = cookiesOf(res).split('; ').filter((c) => c.startsWith('pgw_session=')).join('; ');
    const page = await app.request('/devices', { headers: { cookie } });
    expect(page.status).toBe(500);
    expect(await page.text()).not.toContain('socket hang up'); // no internals in the page
    expect(logged).toHaveLength(1);
    expect(logged[0]).toMatchObject({ message: 'dashboard page failed', context: { method: 'GET', path: '/devices' } });
    expect(String(logged[0]?.context?.['error'])).toContain('socket hang up');
  });
});
