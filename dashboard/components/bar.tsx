/**
 * Progress bars as inline SVG (no inline styles, so the CSP can forbid them): a coverage bar toward a target line,
 * and a stacked bar of execution states.
 */
import { EXECUTION_KINDS, type ExecutionCounts } from '../api/api-types';
import { pct } from './format';

const clamp = (p: number) => Math.max(0, Math.min(100, Number.isFinite(p) ? p : 0));

/** Coverage `percent` (0..100) with a vertical line at `target`. Green once the target is reached (the gateway's verdict when given). */
export function CoverageBar(props: { percent: number; target: number; label: string; reached?: boolean }) {
  const p = clamp(props.percent);
  const t = clamp(props.target);
  const reached = props.reached ?? props.percent >= props.target;
  return (
    <svg
      class="bar"
      viewBox="0 0 100 10"
      preserveAspectRatio="none"
      role="img"
      aria-label={`${props.label}: ${pct(props.percent)} of target ${pct(props.target)}`}
    >
      <rect class="bar-track" x="0" y="0" width="100" height="10" />
      <rect class={reached ? 'bar-fill bar-fill-ok' : 'bar-fill'} x="0" y="0" width={p.toFixed(2)} height="10" />
      <line class="bar-target" x1={t.toFixed(2)} x2={t.toFixed(2)} y1="0" y2="10" vector-effect="non-scaling-stroke" />
    </svg>
  );
}

/** One segment per execution state, proportional to its count; empty states take no room. */
export function StateBar(props: { counts: ExecutionCounts; total: number; label: string }) {
  const total = props.total > 0 ? props.total : 1;
  let x = 0;
  const segments = EXECUTION_KINDS.filter((k) => props.counts[k] > 0).map((k) => {
    const w = (100 * props.counts[k]) / total;
    const seg = (
      <rect class={`seg seg-${k.toLowerCase()}`} x={x.toFixed(2)} y="0" width={w.toFixed(2)} height="10">
        <title>{`${k}: ${props.counts[k]}`}</title>
      </rect>
    );
    x += w;
    return seg;
  });
  return (
    <svg class="bar bar-states" viewBox="0 0 100 10" preserveAspectRatio="none" role="img" aria-label={props.label}>
      <rect class="bar-track" x="0" y="0" width="100" height="10" />
      {segments}
    </svg>
  );
}

/** Legend chips for the execution states, with counts. */
export function StateLegend(props: { counts: ExecutionCounts }) {
  return (
    <ul class="legend">
      {EXECUTION_KINDS.map((k) => (
        <li class={props.counts[k] === 0 ? 'legend-zero' : ''} data-state={k}>
          <span class={`swatch seg-${k.toLowerCase()}`} aria-hidden="true"></span>
          {k.replace('_', ' ').toLowerCase()} <b class="count">{props.counts[k]}</b>
        </li>
      ))}
    </ul>
  );
}
