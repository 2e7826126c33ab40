/**
 * GET /events: the browser's live-update stream (server-sent events). It relays the gateway's GET /api/events
 * (as `change` events carrying the upstream event name); when that stream cannot be had (404/405/501, e.g. a proxy
 * that does not pass server-sent events) it polls the API
 * server-side instead and sends `change` whenever what the pages show has changed. The browser's live.js then
 * re-fetches the page and patches its live fragments. The stream carries no page content itself.
 */
import type { Context } from 'hono';
import { streamSSE, type SSEStreamingApi } from 'hono/streaming';
import { ApiError, type ApiClient } from '../api/api-client';
import type { DashboardEnv } from '../session/env';

export interface EventOptions {
  /** Server-side polling period when /api/events cannot be had. */
  readonly pollIntervalMs: number;
  /** Comment lines keep idle connections (and proxies) alive. */
  readonly heartbeatMs: number;
}

const EVENT_NAME = /^[A-Za-z0-9._:-]{1,64}$/;

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done);
  });
}

/**
 * Split an SSE byte stream into events; calls `onEvent(name, data)` per event. Aborting `signal` cancels the
 * stream (an in-process upstream ignores the request's signal, so this is what lets go of it).
 */
export async function readSse(
  body: ReadableStream<Uint8Array>,
  onEvent: (name: string, data: string) => Promise<void>,
  signal?: AbortSignal,
) {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buf = '';
  const cancel = () => void reader.cancel().catch(() => undefined);
  if (signal?.aborted) cancel();
  signal?.addEventListener('abort', cancel);
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buf += decoder.decode(value, { stream: true }).replace(/\r\n?/g, '\n');
      let end: number;
      while ((end = buf.indexOf('\n\n')) >= 0) {
        const block = buf.slice(0, end);
        buf = buf.slice(end + 2);
        let name = 'message';
        const data: string[] = [];
        let any = false;
        for (const line of block.split('\n')) {
          if (line.startsWith(':') || line === '') continue;
          const i = line.indexOf(':');
          const field = i < 0 ? line : line.slice(0, i);
          const val = i < 0 ? '' : line.slice(i + 1).replace(/^ /, '');
          if (field === 'event') name = val;
          else if (field === 'data') data.push(val);
          else continue;
          any = true;
        }
        if (any) await onEvent(name, data.join('\n'));
      }
    }
  } finally {
    signal?.removeEventListener('abort', cancel);
    await reader.cancel().catch(() => undefined);
  }
}

/** A part the gateway cannot answer counts as absent, except a refused token, which ends the stream. */
const settle = <T>(p: Promise<T>): Promise<T | null> =>
  p.catch((e: unknown) => {
    if (e instanceof ApiError && e.status === 401) throw e;
    return null;
  });

/**
 * What the pages show, cheaply: a change in it means the pages should refresh. Each part is optional (a gateway
 * without rollouts yet still gets live device and fleet updates); the device part is the first page only.
 */
async function digest(api: ApiClient): Promise<string> {
  const [rollouts, fleets, devices] = await Promise.all([
    settle(api.rollouts()),
    settle(api.fleets()),
    settle(api.devices({ limit: 100 })),
  ]);
  const active = (rollouts ?? []).filter((r) => r.state.kind === 'RUNNING' || r.state.kind === 'PAUSED');
  const [details, coverage] = await Promise.all([
    Promise.all(active.map((r) => settle(api.rollout(r.id)))),
    Promise.all((fleets ?? []).map((f) => settle(api.coverage(f.fleet)))),
  ]);
  return JSON.stringify([rollouts, fleets, devices, details, coverage]);
}

async function poll(api: ApiClient, stream: SSEStreamingApi, signal: AbortSignal, everyMs: number, ready: () => Promise<void>) {
  let last = await digest(api);
  await ready();
  while (!signal.aborted) {
    await sleep(everyMs, signal);
    if (signal.aborted) break;
    const now = await digest(api);
    if (now !== last) await stream.writeSSE({ event: 'change', data: JSON.stringify({ type: 'poll' }) });
    last = now;
  }
}

export function eventsHandler(opts: EventOptions) {
  return (c: Context<DashboardEnv>) =>
    streamSSE(c, async (stream) => {
      const ac = new AbortController();
      stream.onAbort(() => ac.abort());
      const heartbeat = setInterval(() => {
        stream.write(': ping\n\n').catch(() => ac.abort());
      }, opts.heartbeatMs);
      // `ready` is sent only once changes can no longer be missed: after the upstream stream is open, or after the
      // poller took its first snapshot. The browser shows "live" on it (and the tests wait for it).
      const ready = (mode: string) => stream.writeSSE({ event: 'ready', data: mode, retry: 1000 });
      try {
        const api = c.get('api');
        let upstream: Response | null;
        try {
          upstream = await api.events(ac.signal);
        } catch (e) {
          if (e instanceof ApiError && (e.status === 401 || e.status === 403)) {
            await stream.writeSSE({ event: 'logout', data: 'session no longer valid' });
            return;
          }
          upstream = null;
        }
        if (upstream?.body) {
          await ready('relay');
          await readSse(upstream.body, async (name, data) => {
            if (name === 'ready') return; // the upstream's own hello, not a change
            const type = EVENT_NAME.test(name) ? name : 'message';
            await stream.writeSSE({ event: 'change', data: JSON.stringify({ type, data: data.slice(0, 2000) }) });
          }, ac.signal);
        } else {
          await poll(api, stream, ac.signal, opts.pollIntervalMs, () => ready('poll'));
        }
      } catch (e) {
        if (ac.signal.aborted) return;
        const revoked = e instanceof ApiError && e.status === 401;
        await stream
          .writeSSE(revoked ? { event: 'logout', data: 'session no longer valid' } : { event: 'error', data: 'gateway event stream failed' })
          .catch(() => undefined);
      } finally {
        clearInterval(heartbeat);
        ac.abort();
      }
    });
}
