/**
 * Each gateway case against its bare broker measured in the same run (issue 14: an absolute time on a shared
 * machine proves little, a ratio to the bare parts does). > 1 = the gateway is slower / bigger than the bare parts.
 */
const PAIRS = [['embedded', 'bare-aedes'], ['mosquitto-pg', 'bare-mosquitto'], ['mosquitto-pg', 'bare-aedes']] as const;

type Case = Record<string, unknown>;

function num(c: Case | undefined, path: string): number | null {
  let v: unknown = c;
  for (const k of path.split('.')) v = v !== null && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined;
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

function ratio(a: number | null, b: number | null): number | null {
  return a === null || b === null || b === 0 ? null : +(a / b).toFixed(2);
}

export function ratios(results: Record<string, Case>): Record<string, Record<string, number | boolean | null>> {
  const out: Record<string, Record<string, number | boolean | null>> = {};
  for (const [gw, bare] of PAIRS) {
    const g = results[gw];
    const b = results[bare];
    if (g === undefined || b === undefined) continue;
    const to100 = ratio(num(g, 'rollout.secondsTo100Verified'), num(b, 'rollout.secondsTo100Verified'));
    // memory: everything the gateway set-up holds per device (gateway processes + its broker) over the bare broker.
    // A gateway without the connections (external broker) can end the connect phase smaller than it began (the
    // enrolment's garbage collected): it holds no per-connection state, counted as 0, never as a negative cost.
    const gwMem = Math.max(0, num(g, 'memory.gatewayRssPerConnectedDeviceKiB') ?? 0) + (num(g, 'memory.brokerRssPerConnectedDeviceKiB') ?? 0);
    out[`${gw} / ${bare}`] = {
      secondsTo95Verified: ratio(num(g, 'rollout.secondsTo95Verified'), num(b, 'rollout.secondsTo95Verified')),
      secondsTo100Verified: to100,
      secondsAllOnline: ratio(num(g, 'connect.secondsAllOnline'), num(b, 'connect.secondsAllOnline')),
      connectsPerSec: ratio(num(g, 'connect.simulatorConnectsPerSec'), num(b, 'connect.simulatorConnectsPerSec')),
      rssPerConnectedDevice: ratio(gwMem, num(b, 'memory.brokerRssPerConnectedDeviceKiB')),
      apiP99: ratio(num(g, 'connect.api.p99Ms'), num(b, 'connect.api.p99Ms')),
      goalMet100VerifiedWithin1_5x: to100 === null ? null : to100 <= 1.5,
    };
  }
  return out;
}
