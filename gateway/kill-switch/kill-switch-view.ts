import type { PinSetJson } from '../../shared/index';
import type { KillCoverageCounts, KillSwitchRow } from '../registry/lifecycle-rows';

export interface KillSwitchView extends Omit<KillSwitchRow, never> {
  coverage: KillCoverageCounts & {
    /** Percent (2 decimals) of the online devices that hold the kill set or newer: the live figure of an incident. */
    percentOnline: number;
    /** Percent of the whole fleet (offline devices included): they get it on their next hello. */
    percentFleet: number;
  };
  /** The first later set that enforces the host again (pinning re-enabled by a normal rollout), if any. */
  reenabledBy: { pinsetId: number; seq: number } | null;
}

const pct = (n: number, d: number) => (d === 0 ? 0 : Math.round((n * 10_000) / d) / 100);

/** Pure: the API's view of a kill switch from its row, the fleet's counts and the sets issued after it. */
export function killSwitchView(row: KillSwitchRow, counts: KillCoverageCounts, later: { id: number; seq: number; json: PinSetJson }[]): KillSwitchView {
  const reenable = later
    .filter((p) => p.json.hosts.some((h) => h.name.toLowerCase() === row.host && h.enforce))
    .sort((a, b) => a.seq - b.seq)[0];
  return {
    ...row,
    coverage: { ...counts, percentOnline: pct(counts.onlineHave, counts.online), percentFleet: pct(counts.have, counts.total) },
    reenabledBy: reenable === undefined ? null : { pinsetId: reenable.id, seq: reenable.seq },
  };
}
