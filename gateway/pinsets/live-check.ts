import { bytesEqual, formatPin, type PinSet, type ServerPins } from '../../shared/index';

/** Fetches the pins a TLS server serves now (shared's fetchServerPins; tests inject one that maps hosts). */
export type FetchServerPins = (host: string, port: number, opts: { timeoutMs: number }) => Promise<ServerPins>;

export interface LiveCheckEntry {
  host: string;
  port: number;
  status: 'ok' | 'would-brick' | 'unreachable';
  detail: string;
}

/**
 * SPEC §4 E_WOULD_BRICK done server-side: for every enforced host (port default 443) the key it serves now must be
 * among the new pins. A key of the served chain counts, as on a device; an unreachable host is a warning, not a pass.
 */
export async function liveCheck(pinset: PinSet, fetchPins: FetchServerPins, timeoutMs: number): Promise<LiveCheckEntry[]> {
  const enforced = pinset.hosts.filter((h) => h.enforce);
  return Promise.all(
    enforced.map(async (h): Promise<LiveCheckEntry> => {
      const port = h.port ?? 443;
      let served: ServerPins;
      try {
        served = await fetchPins(h.name, port, { timeoutMs });
      } catch (err) {
        return { host: h.name, port, status: 'unreachable', detail: err instanceof Error ? err.message : String(err) };
      }
      const match = served.chain.find((p) => h.pins.some((q) => bytesEqual(p, q)));
      if (match) {
        const which = bytesEqual(match, served.leaf) ? 'leaf key' : 'a key of the chain';
        return { host: h.name, port, status: 'ok', detail: `serves ${formatPin(match)} (${which}), which the set pins` };
      }
      return {
        host: h.name,
        port,
        status: 'would-brick',
        detail: `serves ${formatPin(served.leaf)}; none of the ${served.chain.length} served keys is pinned`,
      };
    }),
  );
}
