/**
 * A relative time ("3 min ago") that keeps ticking: rendered by the server, then re-computed every second by
 * live.js from `data-at` (and the server's clock offset, body[data-now]) so "since 1 s ago" never stays true for
 * minutes on a page that has no live change to re-render it (issue 15).
 */
import { ago, fmtTime } from './format';

export function Ago(props: { at: number | null | undefined; now: number; prefix?: string }) {
  const at = props.at;
  if (at === null || at === undefined || !Number.isFinite(at)) return <span class="muted">—</span>;
  return (
    <time class="ago" datetime={new Date(at).toISOString()} data-at={String(at)} title={fmtTime(at)}>
      {ago(at, props.now)}
    </time>
  );
}
