import { z } from 'zod';
import * as contract from '../../../api-contract/index';
import { streamSSE } from 'hono/streaming';
import type { ApiDeps } from '../api-deps';
import type { RouteTable } from '../route-table';

const HEARTBEAT_MS = 15_000;

export function eventRoutes(routes: RouteTable, deps: ApiDeps): void {
  routes.add({ method: 'get', path: '/api/whoami', response: contract.common.whoami, role: 'viewer', summary: 'The token\'s name and role' }, (c) => {
    const identity = c.get('identity');
    return c.json({ name: identity?.name ?? null, role: identity?.role ?? null });
  });

  routes.add(
    {
      method: 'get',
      path: '/api/events',
      contentType: 'text/event-stream',
      // an SSE stream: `event: <type>` lines with JSON `data` (docs/api.md); OpenAPI describes it as text
      response: z.string().describe('text/event-stream: each event is `event: <type>` and `data: <JSON with that type>`'),
      role: 'viewer',
      summary: 'Server-sent events: rollout, executions, coverage, device, rotation (JSON data with a `type`)',
    },
    (c) =>
      streamSSE(c, async (stream) => {
        let done: () => void = () => {};
        const closed = new Promise<void>((resolve) => (done = resolve));
        stream.onAbort(() => done());
        const unsubscribe = deps.hub.subscribe(
          (e) => void stream.writeSSE({ event: e.type, data: JSON.stringify(e) }).catch(() => done()),
          () => done(),
        );
        const heartbeat = setInterval(() => void stream.write(': ping\n\n').catch(() => done()), HEARTBEAT_MS);
        try {
          await stream.writeSSE({ event: 'ready', data: JSON.stringify({ type: 'ready' }), retry: 1000 });
          await closed;
        } finally {
          clearInterval(heartbeat);
          unsubscribe();
        }
      }),
  );
}
