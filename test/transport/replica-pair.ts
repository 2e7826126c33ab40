import { expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import { encodeAck, topicFor } from '../../shared/index';
import { connectRaw } from '../gateway/helpers/device-client';
import { removeDir, tempDir } from '../gateway/helpers/test-gateway';
import { startMosquitto, type TestMosquitto } from '../support/mosquitto';
import type { PgServer } from '../support/postgres';
import { waitFor } from '../support/wait-for';
import { GatewayChild } from './gateway-child';

/**
 * Shorter than the default in tests (a takeover within seconds), long enough that a replica on a heavily loaded CI
 * machine (event loop stalls of seconds) rarely misses its own renewals; REPLICA_TEST_LEASE_MS measures another
 * length, e.g. the default 10000.
 */
export const LEASE_MS = Number(process.env['REPLICA_TEST_LEASE_MS'] ?? 5000);
export const POOL = 4;

export interface LeaseView {
  slot: number;
  holder: string;
  epoch: number;
}

/**
 * Two gateway replicas (child processes) on one PostgreSQL database and one Mosquitto of their own, each holding
 * half of a pool of 4 backend client ids, and devices connected to Mosquitto that record every ack whose PUBACK
 * they received (test/transport/replica-kill.test.ts).
 */
export class ReplicaPair {
  readonly replicas: GatewayChild[] = [];
  readonly devices: MqttClient[] = [];
  readonly ids: string[] = [];
  /** The devices' own record: `device:seq` of every ack whose PUBACK arrived. */
  readonly acknowledged = new Set<string>();
  survivor!: GatewayChild;
  victim!: GatewayChild;
  survivorHolder = '';
  victimSlots: number[] = [];
  private constructor(
    readonly pg: PgServer,
    readonly m: TestMosquitto,
    readonly database: string,
    readonly dir: string,
  ) {}

  /** `victimFlushMs`: the victim's commit interval (long: at a kill it certainly holds acks Mosquitto PUBACKed). */
  static async start(pg: PgServer, victimFlushMs: number): Promise<ReplicaPair> {
    const p = new ReplicaPair(pg, await startMosquitto(), await pg.createDatabase(), tempDir('pingw-replicas-'));
    // one data dir (signer key, admin token, broker secret) shared by both, as on a shared volume; started one after
    // the other so the second finds the files the first created
    p.survivor = await p.startReplica(50);
    p.victim = await p.startReplica(victimFlushMs);
    await waitFor('both replicas to hold their share of the pool', async () => {
      const rows = await p.leases();
      const holders = new Set(rows.map((r) => r.holder));
      return rows.length === POOL && holders.size === 2 && [...holders].every((h) => rows.filter((r) => r.holder === h).length === POOL / 2);
    }, 20_000, 50);
    p.survivorHolder = p.holderOf(p.survivor);
    p.victimSlots = (await p.leases()).filter((r) => r.holder !== p.survivorHolder).map((r) => r.slot);
    expect(p.victimSlots).toHaveLength(POOL / 2);
    return p;
  }

  async startReplica(flushMs: number): Promise<GatewayChild> {
    const gw = await GatewayChild.start(this.dir, this.m, {
      PINGW_DATABASE_URL: this.pg.url(this.database), PINGW_BROKER_POOL_SIZE: String(POOL), PINGW_BROKER_CLIENTS: String(POOL / 2),
      PINGW_BROKER_LEASE_MS: String(LEASE_MS), PINGW_INGEST_FLUSH_MS: String(flushMs),
    });
    this.replicas.push(gw);
    return gw;
  }

  /** The replica's name in the lease table (its start-up line). */
  holderOf(gw: GatewayChild): string {
    return String(gw.logged('connected to the external broker')[0]?.context['holder']);
  }

  async leases(): Promise<LeaseView[]> {
    const out = await this.pg.psql(this.database, 'select slot, holder, epoch from backend_leases order by slot');
    return out.trim().split('\n').filter((l) => l !== '').map((l) => {
      const [slot, holder, epoch] = l.split('|');
      return { slot: Number(slot), holder: holder ?? '', epoch: Number(epoch) };
    });
  }

  /** Enrols `n` devices through either replica (both write the broker's password file) and connects them. */
  async connectDevices(n: number): Promise<void> {
    const token = readFileSync(join(this.dir, 'admin.token'), 'utf8').trim();
    const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    for (let i = 0; i < n; i++) {
      const deviceId = `dev-${String(i).padStart(2, '0')}`;
      const api = (i % 2 === 0 ? this.survivor : this.victim).apiUrl;
      const res = await fetch(`${api}/api/devices`, { method: 'POST', headers, body: JSON.stringify({ deviceId, fleet: 'fleet-a', deviceClass: 'class-a' }) });
      expect(res.status).toBe(201);
      const credential = ((await res.json()) as { credential: string }).credential;
      const opts = { ca: this.m.caPem, servername: 'localhost', clientId: deviceId, username: deviceId, password: credential };
      this.devices.push(await waitFor(`${deviceId} accepted by Mosquitto`, () => connectRaw(this.m.deviceUrl, opts).catch(() => null), 15_000, 50));
      this.ids.push(deviceId);
    }
  }

  /** Every device publishes acks seq from…to at QoS 1, `inFlight` unacknowledged at a time, recording each PUBACK. */
  async publishAcks(from: number, to: number, inFlight: number): Promise<void> {
    await Promise.all(
      this.ids.map(async (deviceId, i) => {
        const device = this.devices[i]!;
        let seq = from - 1;
        const lane = async () => {
          while (seq < to) {
            const s = ++seq;
            const ack = encodeAck({ seq: s, sha256: new Uint8Array(32).fill(s % 256), status: 'applied' });
            await device.publishAsync(topicFor(deviceId, 'ack'), Buffer.from(ack), { qos: 1 });
            this.acknowledged.add(`${deviceId}:${s}`);
          }
        };
        await Promise.all(Array.from({ length: inFlight }, lane));
      }),
    );
  }

  /** `device:seq` and how many rows it has, for every ack in the registry. */
  async committed(): Promise<[string, string][]> {
    const out = await this.pg.psql(this.database, `select device_id || ':' || seq, count(*) from acks group by device_id, seq`);
    return out.trim().split('\n').filter((l) => l !== '').map((l) => l.split('|') as [string, string]);
  }

  /** Waits until every acknowledged ack is committed, then checks each is there once and nothing else is. */
  async expectExactlyOnce(what: string): Promise<void> {
    await waitFor(what, async () => {
      const have = new Set((await this.committed()).map((r) => r[0]));
      return [...this.acknowledged].every((k) => have.has(k));
    }, 60_000, 50);
    const rows = await this.committed();
    expect(rows.filter((r) => r[1] !== '1')).toEqual([]);
    expect(rows.map((r) => r[0]).sort()).toEqual([...this.acknowledged].sort());
  }

  async stop(): Promise<void> {
    await Promise.allSettled(this.devices.map((d) => d.endAsync(true)));
    for (const r of this.replicas) {
      if (r.child.signalCode === null && r.child.exitCode === null) r.child.kill('SIGCONT'); // a frozen one must be able to exit
      await r.kill('SIGTERM');
    }
    await this.m.stop();
    removeDir(this.dir);
  }
}
