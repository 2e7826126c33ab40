/**
 * The pure lease rules of the backend client-id pool (gateway/external-broker/pool-lease.ts) on fake time: slot
 * states and their transitions, and what one scan of the lease table decides for a replica.
 */
import { describe, expect, it } from 'vitest';
import {
  decide,
  defaultTimings,
  drain,
  expire,
  held,
  mayConnect,
  refused,
  renewed,
  type LeaseRow,
  type ScanInput,
} from '../../gateway/external-broker/pool-lease';

const t = defaultTimings(10_000); // renew every 2.5 s, stop using a slot 2 s before the lease's end
const row = (slot: number, holder: string | null, expiresAt: number, over: Partial<LeaseRow> = {}): LeaseRow => ({
  slot, holder, expiresAt, epoch: 1, wantedBy: null, ...over,
});
const scan = (over: Partial<ScanInput>): ScanInput => ({ me: 'A', rows: [], mine: new Set(), poolSize: 8, share: 4, now: 1000, ...over });

describe('slot states', () => {
  it('timings: renewal every quarter of the lease, margin a fifth', () => {
    expect(t).toEqual({ ttlMs: 10_000, renewMs: 2_500, marginMs: 2_000 });
  });

  it('a held slot may connect until expiresAt − margin, then it is lost (expired) and stays lost', () => {
    let s = held(row(0, 'A', 11_000), t);
    expect(s).toEqual({ kind: 'held', epoch: 1, deadline: 9_000 });
    expect(mayConnect(s, 8_999)).toBe(true);
    expect(expire(s, 8_999)).toBe(s);
    s = expire(s, 9_000);
    expect(s).toEqual({ kind: 'lost', epoch: 1, why: 'expired' });
    expect(mayConnect(s, 9_000)).toBe(false);
    // a late renewal answer does not bring it back: the connection was closed, another replica may hold the id
    expect(renewed(s, row(0, 'A', 20_000), t)).toBe(s);
    expect(drain(s, 'shutdown')).toBe(s);
  });

  it('renewal moves the deadline; a renewal of another epoch (someone took the slot meanwhile) does not', () => {
    const s = held(row(0, 'A', 11_000), t);
    expect(renewed(s, row(0, 'A', 13_500), t)).toEqual({ kind: 'held', epoch: 1, deadline: 11_500 });
    expect(renewed(s, row(0, 'A', 13_500, { epoch: 2 }), t)).toBe(s);
  });

  it('a refused renewal loses the slot (taken), whatever the deadline says', () => {
    const s = held(row(0, 'A', 11_000), t);
    expect(refused(s)).toEqual({ kind: 'lost', epoch: 1, why: 'taken' });
    expect(mayConnect(refused(s), 1000)).toBe(false);
  });

  it('draining: no reconnect, but still renewed and still expiring', () => {
    const s = drain(held(row(0, 'A', 11_000), t), 'handoff');
    expect(s).toEqual({ kind: 'draining', epoch: 1, deadline: 9_000, why: 'handoff' });
    expect(mayConnect(s, 1000)).toBe(false);
    expect(renewed(s, row(0, 'A', 13_500), t)).toEqual({ kind: 'draining', epoch: 1, deadline: 11_500, why: 'handoff' });
    expect(expire(s, 9_000)).toEqual({ kind: 'lost', epoch: 1, why: 'expired' });
    expect(drain(s, 'shutdown')).toBe(s);
  });
});

describe('one scan of the lease table', () => {
  it('first replica on an empty table claims its share, lowest slots first', () => {
    expect(decide(scan({}))).toEqual({ takeOver: [], claim: [0, 1, 2, 3], want: [], handOff: [] });
  });

  it('second replica claims the unused rest', () => {
    const rows = [0, 1, 2, 3].map((s) => row(s, 'A', 11_000));
    expect(decide(scan({ me: 'B', rows }))).toEqual({ takeOver: [], claim: [4, 5, 6, 7], want: [], handOff: [] });
  });

  it('a dead replica\'s slots are taken over once their lease ran out, beyond our share; not a moment before', () => {
    const rows = [...[0, 1, 2, 3].map((s) => row(s, 'A', 11_000)), ...[4, 5, 6, 7].map((s) => row(s, 'B', 9_000))];
    const mine = new Set([0, 1, 2, 3]);
    expect(decide(scan({ rows, mine, now: 8_999 }))).toEqual({ takeOver: [], claim: [], want: [], handOff: [] });
    expect(decide(scan({ rows, mine, now: 9_000 })).takeOver).toEqual([4, 5, 6, 7]);
  });

  it('released slots are taken at once (their sessions may hold messages), unless reserved for another replica', () => {
    const rows = [row(0, null, 5_000), row(1, null, 5_000, { wantedBy: 'C' }), row(2, null, 5_000, { wantedBy: 'A' })];
    expect(decide(scan({ rows, share: 0 })).takeOver).toEqual([0, 2]);
    // the reservation ended: anyone
    expect(decide(scan({ rows, share: 0, now: 5_000 })).takeOver).toEqual([0, 1, 2]);
  });

  it('slots beyond the pool size (a pool made smaller) are left alone', () => {
    const rows = [row(9, 'B', 1_000)];
    expect(decide(scan({ rows, now: 2_000 }))).toEqual({ takeOver: [], claim: [0, 1, 2, 3], want: [], handOff: [] });
  });

  it('a replica that comes back to a full pool asks the busiest holder for slots until the split is even', () => {
    const rows = [0, 1, 2, 3, 4, 5, 6, 7].map((s) => row(s, 'A', 11_000, s === 6 ? { wantedBy: 'C' } : {}));
    expect(decide(scan({ me: 'B', rows }))).toEqual({ takeOver: [], claim: [], want: [0, 1, 2, 3], handOff: [] });
    // 5 held by A, 3 by B: one more would make it 4 / 4
    const rows2 = [...[0, 1, 2, 3, 4].map((s) => row(s, 'A', 11_000)), ...[5, 6, 7].map((s) => row(s, 'B', 11_000))];
    expect(decide(scan({ me: 'B', rows: rows2, mine: new Set([5, 6, 7]) })).want).toEqual([0]);
    // 4 / 3 with a share of 4: moving one would only swap the imbalance
    const rows3 = [...[0, 1, 2, 3].map((s) => row(s, 'A', 11_000)), ...[5, 6, 7].map((s) => row(s, 'B', 11_000))];
    expect(decide(scan({ me: 'B', rows: rows3, mine: new Set([5, 6, 7]), poolSize: 7 })).want).toEqual([]);
  });

  it('asked-for slots we hold beyond our share are handed off; at or below our share we keep them', () => {
    const rows = [0, 1, 2, 3, 4, 5, 6, 7].map((s) => row(s, 'A', 11_000, s >= 5 ? { wantedBy: 'B' } : {}));
    const all = new Set([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(decide(scan({ rows, mine: all })).handOff).toEqual([5, 6, 7]);
    expect(decide(scan({ rows, mine: all, share: 6 })).handOff).toEqual([5, 6]);
    expect(decide(scan({ rows, mine: all, share: 8 })).handOff).toEqual([]);
  });
});
