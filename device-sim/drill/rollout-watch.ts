import { ApiError, ApiUnreachable, type GatewayApi, type Readiness, type RolloutView } from './gateway-api';
import type { Timeline } from './timeline';

/**
 * Follows a running rollout the way an operator watches the dashboard: prints each wave's start and end, the
 * rotation readiness of the new key after each wave, and advances a wave that holds only because of devices that
 * are offline (SPEC §7: the success gate counts offline members, so such a wave can never pass on its own;
 * docs/decisions-rollout.md: "an operator advances (audited) rather than the gate guessing").
 *
 * A wave counts as held by offline devices when its gate decision is a success-gate hold, nothing of it is in
 * flight (DELIVERED = APPLIED = 0: every online member has answered), only QUEUED members are left, and that
 * picture has not changed for `stableMs`. Any pause (error gate, wave-failed…) ends the watch with an error:
 * the drill expects none.
 */
export interface WatchOptions {
  readonly api: GatewayApi;
  readonly timeline: Timeline;
  readonly rolloutId: string;
  /** Readiness printed after each wave. */
  readonly readiness: () => Promise<Readiness>;
  readonly readinessLabel: string;
  readonly stableMs?: number;
  readonly timeoutMs: number;
}

export interface WatchResult {
  readonly rollout: RolloutView;
  /** Waves the operator advanced, with the counts that held them. */
  readonly advanced: { wave: number; verified: number; queued: number; enrolled: number }[];
}

/**
 * A failure a replica set goes through when one replica dies: no replica answered this time (the API moves on to
 * the next), or 503 E_NOT_LEADER while another replica takes the lead (docs/scale.md: "read the rollout, retry").
 */
const transient = (e: unknown): boolean => e instanceof ApiUnreachable || (e instanceof ApiError && e.status === 503);
const pause = (ms: number) => new Promise((res) => setTimeout(res, ms));

const pct = (n: number) => `${n.toFixed(n % 1 === 0 ? 0 : 1)}%`;

export function readinessText(label: string, r: Readiness): string {
  const by = Object.entries(r.atRiskBy).filter(([, n]) => n > 0).map(([k, n]) => `${k} ${n}`).join(', ');
  return `readiness ${label}: ${r.ready ? 'READY' : 'NOT READY'} coverage ${pct(r.coverage)} (${r.verified}/${r.total}, target ${r.target}%) at-risk ${r.atRisk}${by !== '' ? ` (${by})` : ''}`;
}

export async function watchRollout(o: WatchOptions): Promise<WatchResult> {
  const { api, timeline: tl } = o;
  const stableMs = o.stableMs ?? 1_500;
  const started = new Set<number>();
  const ended = new Set<number>();
  const advanced: WatchResult['advanced'] = [];
  let heldSince: { key: string; at: number } | undefined;
  const deadline = Date.now() + o.timeoutMs;
  for (;;) {
    let r: RolloutView;
    try {
      r = await api.rollout(o.rolloutId);
    } catch (e) {
      if (!transient(e) || Date.now() > deadline) throw e;
      await pause(250);
      continue;
    }
    const n = r.waves.length;
    for (const w of r.waves) {
      if (w.startedAt !== null && !started.has(w.index)) {
        started.add(w.index);
        tl.add('wave-started', `rollout wave ${w.index + 1}/${n} "${w.name}" started (${w.enrolled ?? 0} devices)`, { wave: w.index + 1, enrolled: w.enrolled });
      }
      if (w.endedAt !== null && !ended.has(w.index)) {
        ended.add(w.index);
        const c = w.counts;
        tl.add('wave-ended', `rollout wave ${w.index + 1}/${n} done: ${c.VERIFIED} verified, ${c.QUEUED} still queued (offline)`, { wave: w.index + 1, ...c });
        const rd = await o.readiness();
        tl.add('readiness', readinessText(o.readinessLabel, rd), { ...rd, devices: undefined });
      }
    }
    if (r.state.kind === 'COMPLETED') {
      const k = r.executions.byKind;
      tl.add('rollout-completed', `rollout ${r.id} COMPLETED: ${k.VERIFIED} verified, ${k.QUEUED} queued for reconnect, ${k.REJECTED + k.TIMED_OUT} failed`, { ...k });
      return { rollout: r, advanced };
    }
    if (r.state.kind !== 'RUNNING') {
      const why = 'reason' in r.state ? ` (${JSON.stringify(r.state.reason)})` : '';
      throw new Error(`rollout ${r.id} is ${r.state.kind}${why}: the drill expects it to run through`);
    }
    const w = r.waves[r.state.wave ?? -1];
    const c = w?.counts;
    const heldByOffline = w !== undefined && c !== undefined && r.gate?.decision.kind === 'hold'
      && (r.gate.decision.why ?? '').startsWith('success gate') && c.DELIVERED === 0 && c.APPLIED === 0 && c.QUEUED > 0;
    if (!heldByOffline) heldSince = undefined;
    else {
      const key = `${w.index}:${c.VERIFIED}:${c.QUEUED}`;
      if (heldSince?.key !== key) heldSince = { key, at: Date.now() };
      else if (Date.now() - heldSince.at >= stableMs) {
        const enrolled = w.enrolled ?? c.VERIFIED + c.QUEUED;
        tl.add('operator-advance',
          `wave ${w.index + 1}/${n} holds at ${c.VERIFIED}/${enrolled} verified (${pct((100 * c.VERIFIED) / enrolled)} < 95%): its ${c.QUEUED} missing devices are offline, operator advances it (POST /api/rollouts/${r.id}/advance)`,
          { wave: w.index + 1, verified: c.VERIFIED, queued: c.QUEUED, enrolled });
        heldSince = undefined;
        try {
          await api.rolloutAction(r.id, 'advance', `drill: ${c.QUEUED} devices of wave ${w.index + 1} are offline`);
          advanced.push({ wave: w.index + 1, verified: c.VERIFIED, queued: c.QUEUED, enrolled });
        } catch (e) {
          // it may or may not have run: the next reads show which (the wave moved on, or it holds again and is advanced then)
          if (!transient(e)) throw e;
          tl.add('operator-retry', `advance of wave ${w.index + 1} not confirmed (${(e as Error).message}): the drill reads the rollout again`, { wave: w.index + 1 });
        }
      }
    }
    if (Date.now() > deadline) throw new Error(`rollout ${r.id} did not complete in time: ${JSON.stringify({ state: r.state, gate: r.gate, counts: r.executions.byKind })}`);
    await new Promise((res) => setTimeout(res, 250));
  }
}
