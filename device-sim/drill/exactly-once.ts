/**
 * The drill's independent oracle (the idea of test/replicas/: count each acknowledged ack once): the devices' own
 * record of the acks they received a PUBACK for, compared with what the gateway's registry holds, read through
 * the API only (device-sim never imports gateway/ nor a database driver):
 *
 *  - lost: an ack a device got a PUBACK for that no `GET /api/devices/:id` history lists. PUBACK after commit
 *    (docs/scale.md "What a PUBACK means") says this never happens, whichever replica dies;
 *  - twice: an ack (device, seq, status) the history lists more than once;
 *  - counters: each pin set's ack counters (`GET /api/pinsets/:id` → acks, kept by the ingest writer in the same
 *    commit as the row) against the rows themselves: a redelivered ack counted again shows up here.
 *
 * A PUBACKed ack may still be on its way into the registry (waiting in a dead replica's broker session until a
 * survivor takes the session over), so the caller polls until nothing is lost or its deadline passes.
 */
import type { GatewayApi } from './gateway-api';

export interface CounterCheck {
  readonly pinsetId: number;
  readonly seq: number;
  readonly status: string;
  /** The pin set's counter. */
  readonly counted: number;
  /** Ack rows of that pin set and status in the devices' histories. */
  readonly rows: number;
}

export interface ExactlyOnceResult {
  readonly ok: boolean;
  /** Distinct acks the devices received a PUBACK for. */
  readonly pubacked: number;
  /** Ack rows the registry holds for these devices. */
  readonly registryRows: number;
  readonly lost: string[];
  readonly twice: string[];
  /**
   * In the registry, but no device recorded a PUBACK for it: allowed (the commit happened, the PUBACK did not reach
   * the device, e.g. its connection or power went first; it is not counted twice for that). Listed for the record.
   */
  readonly unconfirmed: string[];
  readonly counters: CounterCheck[];
  readonly counterMismatches: CounterCheck[];
}

interface DeviceHistory {
  history: ({ type: 'ack'; seq: number; status: string; pinsetId: number | null } | { type: 'report' })[];
}
interface PinsetListItem { id: number; seq: number }
interface PinsetDetail { id: number; seq: number; acks: Record<string, number> }

/** `deviceId|seq|status`, the key of the devices' record (device-sim/worker.ts). */
export const ackKey = (deviceId: string, seq: number, status: string) => `${deviceId}|${seq}|${status}`;

export async function checkExactlyOnce(o: {
  api: GatewayApi;
  fleet: string;
  deviceIds: readonly string[];
  /** The devices' record: `deviceId|seq|status` → PUBACKs received. */
  pubacked: ReadonlyMap<string, number>;
}): Promise<ExactlyOnceResult> {
  const { api } = o;
  const rows = new Map<string, number>();
  const rowsByPinset = new Map<string, number>(); // `${pinsetId}|${status}` → rows
  let next = 0;
  const lane = async () => {
    while (next < o.deviceIds.length) {
      const id = o.deviceIds[next++] as string;
      // at most 100 acks per device in the history: a drill device has six at most (two sets, applied + verified, and the factory set's)
      const d = await api.call<DeviceHistory>('GET', `/api/devices/${encodeURIComponent(id)}`);
      for (const h of d.history) {
        if (h.type !== 'ack') continue;
        const k = ackKey(id, h.seq, h.status);
        rows.set(k, (rows.get(k) ?? 0) + 1);
        // the counters count acks of a known pin set (pg-ingest / sqlite ingest: pinset_id not null)
        if (h.pinsetId === null) continue;
        const p = `${h.pinsetId}|${h.status}`;
        rowsByPinset.set(p, (rowsByPinset.get(p) ?? 0) + 1);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(8, o.deviceIds.length) }, lane));

  const counters: CounterCheck[] = [];
  const sets = await api.call<PinsetListItem[]>('GET', `/api/pinsets?${new URLSearchParams({ fleet: o.fleet })}`);
  for (const s of sets) {
    const detail = await api.call<PinsetDetail>('GET', `/api/pinsets/${s.id}`);
    const statuses = new Set([...Object.keys(detail.acks), ...[...rowsByPinset.keys()].filter((k) => k.startsWith(`${s.id}|`)).map((k) => k.slice(k.indexOf('|') + 1))]);
    for (const status of [...statuses].sort()) {
      counters.push({ pinsetId: s.id, seq: s.seq, status, counted: detail.acks[status] ?? 0, rows: rowsByPinset.get(`${s.id}|${status}`) ?? 0 });
    }
  }
  const lost = [...o.pubacked.keys()].filter((k) => !rows.has(k)).sort();
  const twice = [...rows].filter(([, n]) => n > 1).map(([k]) => k).sort();
  const unconfirmed = [...rows.keys()].filter((k) => !o.pubacked.has(k)).sort();
  const counterMismatches = counters.filter((c) => c.counted !== c.rows);
  return {
    ok: lost.length === 0 && twice.length === 0 && counterMismatches.length === 0 && o.pubacked.size > 0,
    pubacked: o.pubacked.size,
    registryRows: [...rows.values()].reduce((a, b) => a + b, 0),
    lost, twice, unconfirmed, counters, counterMismatches,
  };
}

/** One line for the timeline. */
export function exactlyOnceText(r: ExactlyOnceResult): string {
  const sets = [...new Set(r.counters.map((c) => c.seq))].map((seq) =>
    `seq ${seq} ${r.counters.filter((c) => c.seq === seq).map((c) => `${c.status} ${c.counted}`).join(' ')}`).join(', ');
  const head = r.ok ? 'exactly once: OK' : 'exactly once: FAILED';
  const ids = (l: string[]) => (l.length <= 3 ? l.join(', ') : `${l.slice(0, 3).join(', ')}, … (${l.length})`);
  return `${head}: ${r.pubacked} acks the devices got a PUBACK for, ${r.pubacked - r.lost.length} of them in the registry, `
    + `${r.lost.length} lost${r.lost.length > 0 ? ` (${ids(r.lost)})` : ''}, ${r.twice.length} twice${r.twice.length > 0 ? ` (${ids(r.twice)})` : ''}; `
    + `${r.unconfirmed.length > 0 ? `${r.unconfirmed.length} more in the registry whose PUBACK no device recorded (${ids(r.unconfirmed)}); ` : ''}`
    + `pin set counters ${r.counterMismatches.length === 0 ? '= rows' : `≠ rows for ${r.counterMismatches.map((c) => `seq ${c.seq} ${c.status} ${c.counted}≠${c.rows}`).join(', ')}`} (${sets})`;
}
