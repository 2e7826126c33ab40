/**
 * Inline SVG time-series chart of pin-validation results (ok / mismatch / fail-open per time bucket).
 * Pure markup: no script, no external asset; colours come from the stylesheet classes.
 */
import type { TelemetryPoint } from '../api/api-types';
import { fmtClock } from './format';

const W = 800;
const H = 260;
const PAD = { left: 52, right: 16, top: 14, bottom: 30 };

const SERIES = [
  { key: 'ok', label: 'ok' },
  { key: 'mismatch', label: 'mismatch' },
  { key: 'failOpen', label: 'fail-open' },
] as const;

/** A "nice" axis maximum ≥ v: 1, 2, 5 × 10^n. */
export function niceMax(v: number): number {
  if (v <= 0) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

/**
 * Runs of adjacent buckets: a line joins two points only when no bucket lies between them, so empty minutes
 * show as a gap instead of an invented trend (issue 15). Without a bucket size every point is its own run.
 */
export function runs(points: readonly TelemetryPoint[], bucketMs: number | undefined): TelemetryPoint[][] {
  const out: TelemetryPoint[][] = [];
  let cur: TelemetryPoint[] = [];
  for (const p of points) {
    const prev = cur[cur.length - 1];
    if (prev !== undefined && (bucketMs === undefined || p.t - prev.t > bucketMs)) {
      out.push(cur);
      cur = [];
    }
    cur.push(p);
  }
  if (cur.length > 0) out.push(cur);
  return out;
}

export function TelemetryChart(props: { points: TelemetryPoint[]; title: string; bucketMs?: number }) {
  const pts = [...props.points].sort((a, b) => a.t - b.t);
  if (pts.length === 0) {
    return <p class="empty-chart">No pin-validation reports in this time window.</p>;
  }
  const first = pts[0] as TelemetryPoint;
  const last = pts[pts.length - 1] as TelemetryPoint;
  const t0 = first.t;
  const t1 = last.t > t0 ? last.t : t0 + 1;
  const top = Math.max(1, ...pts.map((p) => Math.max(p.ok, p.mismatch, p.failOpen)));
  const step = Math.max(1, niceMax(top / 5));
  const yMax = Math.ceil(top / step) * step;
  const plotW = W - PAD.left - PAD.right;
  const plotH = H - PAD.top - PAD.bottom;
  const x = (t: number) => PAD.left + ((t - t0) / (t1 - t0)) * plotW;
  const y = (v: number) => PAD.top + plotH - (v / yMax) * plotH;
  const yTicks = Array.from({ length: yMax / step + 1 }, (_, i) => i * step);
  const xCount = Math.min(6, pts.length);
  const xTicks = Array.from({ length: xCount }, (_, i) => t0 + ((t1 - t0) * i) / Math.max(1, xCount - 1));
  return (
    <figure class="chart">
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-label={props.title}>
        <title>{props.title}</title>
        {yTicks.map((v) => (
          <g class="grid">
            <line x1={PAD.left} x2={W - PAD.right} y1={y(v).toFixed(1)} y2={y(v).toFixed(1)} />
            <text x={PAD.left - 8} y={(y(v) + 4).toFixed(1)} text-anchor="end">
              {String(v)}
            </text>
          </g>
        ))}
        {xTicks.map((t) => (
          <text class="axis-label" x={x(t).toFixed(1)} y={H - 8} text-anchor="middle">
            {fmtClock(t)}
          </text>
        ))}
        {SERIES.map((s) => (
          <g class={`series series-${s.label}`}>
            {runs(pts, props.bucketMs)
              .filter((run) => run.length > 1)
              .map((run) => (
                <polyline points={run.map((p) => `${x(p.t).toFixed(1)},${y(p[s.key]).toFixed(1)}`).join(' ')} />
              ))}
            {pts.length <= 40 || runs(pts, props.bucketMs).some((run) => run.length === 1)
              ? pts.map((p) => (
                  <circle cx={x(p.t).toFixed(1)} cy={y(p[s.key]).toFixed(1)} r="3">
                    <title>{`${fmtClock(p.t)} ${s.label}: ${p[s.key]}`}</title>
                  </circle>
                ))
              : null}
          </g>
        ))}
      </svg>
      <figcaption class="chart-legend">
        {SERIES.map((s) => (
          <span class={`key key-${s.label}`}>
            <span class="swatch" aria-hidden="true"></span>
            {s.label} <b>{pts.reduce((a, p) => a + p[s.key], 0)}</b>
          </span>
        ))}
      </figcaption>
    </figure>
  );
}
