/**
 * Event fan-out between replicas over a real PostgreSQL LISTEN/NOTIFY channel: browser events reach the other
 * replica's SSE subscribers once and in order, device events reach its fleet-wide listeners (byte arrays intact)
 * but not its local ones (metrics, webhooks), bursts are packed under the 8000-byte NOTIFY limit, and an oversize
 * item or an unreadable message is counted / logged, never fatal.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../gateway/clock';
import { BrowserEventStream, type BrowserEvent } from '../../gateway/events/browser-event-stream';
import { EventBus, type AckEvent } from '../../gateway/events/event-bus';
import { ReplicaFanout } from '../../gateway/events/replica-fanout';
import { memoryLogger } from '../../gateway/logger';
import { openPostgresRegistry } from '../../gateway/registry/postgres/postgres-registry';
import type { Registry } from '../../gateway/registry/registry';
import { startPostgres, type PgServer } from '../support/postgres';
import { waitFor } from '../support/wait-for';

describe('replica fan-out on PostgreSQL LISTEN/NOTIFY', () => {
  let server: PgServer;
  let url: string;
  const opened: Registry[] = [];
  beforeAll(async () => {
    server = await startPostgres();
    url = server.url(await server.createDatabase());
  }, 120_000);
  afterAll(async () => {
    for (const r of opened) await r.close();
    await server?.stop();
  });

  const replica = async (origin: string) => {
    const registry = await openPostgresRegistry({ url, readUrl: null, poolSize: 2 }, systemClock);
    opened.push(registry);
    const logger = memoryLogger();
    const channel = await registry.openReplicaChannel(logger);
    if (channel === null) throw new Error('PostgreSQL must give a channel');
    const bus = new EventBus(logger);
    const hub = new BrowserEventStream(10);
    const fanout = new ReplicaFanout(channel, bus, hub, origin, logger);
    fanout.start();
    return { bus, hub, fanout, logger, channel };
  };

  it('SSE events once and in order on the other replica; device events to fleet-wide listeners only; 8000-byte limit kept', async () => {
    const a = await replica('a');
    const b = await replica('b');
    const onB: BrowserEvent[] = [];
    const onA: BrowserEvent[] = [];
    b.hub.subscribe((e) => onB.push(e));
    a.hub.subscribe((e) => onA.push(e));
    const fleetWide: AckEvent[] = [];
    const local: AckEvent[] = [];
    b.bus.onFleetWide('ack', (e) => fleetWide.push(e));
    b.bus.on('ack', (e) => local.push(e));

    const sizes: number[] = [];
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    admin.on('notification', (n) => sizes.push(Buffer.byteLength(n.payload ?? '')));
    await admin.query('listen pingw_replicas');

    const M = 600; // ~60 bytes each: several notifications
    for (let i = 0; i < M; i++) a.hub.publish({ type: 'rollout', id: `r${i}`, action: 'start' });
    const sha = new Uint8Array(32).fill(7);
    a.bus.emit('ack', { deviceId: 'd1', ack: { seq: 3, sha256: sha, status: 'verified' }, pinsetId: 4, at: 99 });
    await waitFor(`${M} events on b`, () => onB.length === M && fleetWide.length === 1);
    expect(onB.map((e) => e.id)).toEqual(Array.from({ length: M }, (_, i) => `r${i}`));
    expect(onA).toHaveLength(M); // a's own subscribers got them once, not again from the channel
    expect(fleetWide[0]).toEqual({ deviceId: 'd1', ack: { seq: 3, sha256: sha, status: 'verified' }, pinsetId: 4, at: 99 });
    expect(fleetWide[0]?.ack.sha256).toBeInstanceOf(Uint8Array);
    expect(local).toHaveLength(0); // b counts only what b ingested
    expect(sizes.length).toBeGreaterThan(1);
    expect(Math.max(...sizes)).toBeLessThan(8000);

    // a coalesced burst (coverage) is relayed even when a has no SSE client
    const c = await replica('c');
    c.hub.coalesce('coverage:f', () => ({ type: 'coverage', fleet: 'f' }));
    await waitFor('the coalesced coverage event on b', () => onB.some((e) => e.type === 'coverage' && e.fleet === 'f'));

    // an item too large for one notification is counted and logged, not sent; the channel keeps working
    a.hub.publish({ type: 'rollout', id: 'huge', note: 'x'.repeat(9000) });
    expect(a.fanout.oversize).toBe(1);
    expect(a.logger.lines.some((l) => l.message === 'event too large for the replica channel, not relayed')).toBe(true);
    // an unreadable message on the channel is logged and ignored
    await admin.query(`select pg_notify('pingw_replicas', 'not json {')`);
    a.hub.publish({ type: 'rollout', id: 'after', action: 'pause' });
    await waitFor('the next event on b', () => onB.some((e) => e.id === 'after'));
    expect(onB.some((e) => e.id === 'huge')).toBe(false);
    expect(b.logger.lines.some((l) => l.message === 'unreadable replica event ignored')).toBe(true);
    await admin.end();
    for (const r of [a, b, c]) {
      await r.fanout.stop();
      await r.channel.close();
    }
  });
});
