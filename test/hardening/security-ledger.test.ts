/**
 * The security ledger behind GET /api/security (issue 17): per-fleet rows kept as counts arrive (an id's fleet
 * looked up once; a failed lookup counts it as not enrolled), the devices most affected ranked (two holders of one
 * credential first, then by refusals), and the bound: the least recently counted id forgotten, its counts leaving
 * its fleet's row while the totals keep them.
 */
import { describe, expect, it } from 'vitest';
import { SecurityLedger } from '../../gateway/security/security-ledger';

const FLEETS: Record<string, string> = { a1: 'fa', a2: 'fa', b1: 'fb' };

function ledger(max = 100) {
  const lookups: string[] = [];
  const l = new SecurityLedger(
    {
      fleetOf: async (id) => {
        lookups.push(id);
        if (id === 'broken') throw new Error('registry down');
        return FLEETS[id] ?? null;
      },
      since: 5,
    },
    max,
  );
  return { l, lookups };
}

describe('security ledger', () => {
  it('groups per fleet, ranks the devices, looks each fleet up once', async () => {
    const { l, lookups } = ledger();
    for (let i = 0; i < 5; i++) l.count('a1', 'authFailures', i, '10.0.0.9');
    l.count('a2', 'refusedPublishes', 10, null);
    l.count('b1', 'takeovers', 11, '10.0.0.7');
    l.count('b1', 'suspiciousTakeovers', 11, '10.0.0.7');
    l.count('ghost', 'throttled', 12, '10.0.0.9');
    l.count('broken', 'malformed', 13, null);
    const s = await l.snapshot(3);
    expect(lookups.sort()).toEqual(['a1', 'a2', 'b1', 'broken', 'ghost']);
    expect(s.devices.map((d) => d.deviceId)).toEqual(['b1', 'a1', 'broken']); // two holders first, then by refusals, then newest
    expect(s.devices[1]).toMatchObject({ fleet: 'fa', authFailures: 5, lastFrom: '10.0.0.9' });
    expect(s.fleets.find((f) => f.fleet === 'fa')).toMatchObject({ devices: 2, authFailures: 5, refusedPublishes: 1 });
    expect(s.fleets.find((f) => f.fleet === null)).toMatchObject({ devices: 2, throttled: 1, malformed: 1 });
    expect(s.totals).toMatchObject({ authFailures: 5, refusedPublishes: 1, takeovers: 1, suspiciousTakeovers: 1, throttled: 1, malformed: 1 });
    expect(s).toMatchObject({ since: 5, devicesAffected: 5 });
  });

  it('forgets the least recently counted id beyond its bound; its counts leave its fleet row, not the totals', async () => {
    const { l } = ledger(2);
    l.count('a1', 'authFailures', 1, null);
    l.count('a2', 'authFailures', 2, null);
    await l.snapshot();
    l.count('a1', 'authFailures', 3, null); // a1 is now the most recently counted
    l.count('b1', 'authFailures', 4, null); // forgets a2
    const s = await l.snapshot();
    expect(s.devicesAffected).toBe(2);
    expect(s.devices.map((d) => d.deviceId).sort()).toEqual(['a1', 'b1']);
    expect(s.fleets.find((f) => f.fleet === 'fa')).toMatchObject({ devices: 1, authFailures: 2 });
    expect(s.fleets.find((f) => f.fleet === 'fb')).toMatchObject({ devices: 1, authFailures: 1 });
    expect(s.totals.authFailures).toBe(4);
  });
});
