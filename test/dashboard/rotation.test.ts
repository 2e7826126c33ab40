/** The rotation gate page: verdict, coverage against the target, the at-risk devices with paging. */
import { describe, expect, it } from 'vitest';
import { login } from './helpers';
import { HOST, mounted, PIN_B, PIN_C, scenario, VIEWER } from './scenario';

const url = (pin: string, cursor = '') =>
  `/rotation?${new URLSearchParams({ fleet: 'thermostats', host: HOST, pin, ...(cursor !== '' ? { cursor } : {}) })}`;

describe('rotation gate page', () => {
  it('is linked from the overview and lists the devices at risk, paged', async () => {
    const app = mounted(scenario());
    const s = await login(app, VIEWER);
    const overview = await (await s.get('/')).text();
    expect(overview).toContain(`href="${url(PIN_C).replaceAll('&', '&amp;')}"`);
    const first = await (await s.get(url(PIN_C))).text();
    expect(first).toContain('data-gate="not-ready"');
    expect(first).toContain('38 devices would lose connectivity');
    expect(first).toContain('data-device="thermo-002"');
    expect(first.match(/<tr data-device=/g)?.length).toBe(38);
    expect(first).toContain('last page');
    const later = await (await s.get(url(PIN_C, '30'))).text();
    expect(later.match(/<tr data-device=/g)?.length).toBe(8);
    expect(later).not.toContain('data-device="thermo-002"');
    expect(later).toContain('« First page');
    const ready = await (await s.get(url(PIN_B))).text();
    expect(ready).toContain('data-gate="ready"');
    expect(ready).toContain('No device is at risk.');
  });

  it('needs fleet, host and pin, and a session', async () => {
    const app = mounted(scenario());
    expect((await app.request(url(PIN_C))).status).toBe(303);
    const s = await login(app, VIEWER);
    const res = await s.get('/rotation?fleet=thermostats');
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/');
  });
});
