import pg from 'pg';
import type { Logger } from '../../logger';
import { MAX_CHANNEL_PAYLOAD, type ReplicaChannel } from '../replica-channel';
import type { Queryable } from './pg-pool';

const CHANNEL = 'pingw_replicas';

/**
 * The replica channel on PostgreSQL: NOTIFY through the pool (delivered to listeners when it commits, here at once),
 * LISTEN on a session of its own that is re-opened after a failure (one second apart).
 */
export class PgReplicaChannel implements ReplicaChannel {
  private client: pg.Client | null = null;
  private readonly listeners: ((payload: string) => void)[] = [];
  private readonly gapListeners: (() => void)[] = [];
  private closed = false;
  private retry: NodeJS.Timeout | null = null;

  private constructor(
    private readonly url: string,
    private readonly pool: Queryable,
    private readonly logger: Logger,
  ) {}

  static async open(url: string, pool: Queryable, logger: Logger): Promise<PgReplicaChannel> {
    const c = new PgReplicaChannel(url, pool, logger);
    await c.listen();
    return c;
  }

  async publish(payload: string): Promise<void> {
    if (Buffer.byteLength(payload) > MAX_CHANNEL_PAYLOAD) throw new Error(`replica channel payload of ${Buffer.byteLength(payload)} bytes (limit ${MAX_CHANNEL_PAYLOAD})`);
    await this.pool.query({ text: 'select pg_notify($1, $2)', values: [CHANNEL, payload] });
  }

  subscribe(listener: (payload: string) => void): void {
    this.listeners.push(listener);
  }

  onGap(listener: () => void): void {
    this.gapListeners.push(listener);
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.retry !== null) clearTimeout(this.retry);
    const c = this.client;
    this.client = null;
    await c?.end().catch(() => {});
  }

  private async listen(): Promise<void> {
    const client = new pg.Client({ connectionString: this.url, application_name: 'pin-update-gateway (replica events)' });
    let failed = false;
    const fail = (why: string) => {
      if (failed || this.closed) return;
      failed = true;
      if (this.client === client) this.client = null;
      client.end().catch(() => {});
      this.logger.warn('replica event channel lost, listening again in 1 s', { error: why });
      this.retry = setTimeout(() => {
        this.retry = null;
        this.listen().then(
          () => this.gapListeners.forEach((l) => l()),
          (err: unknown) => fail(String(err)),
        );
      }, 1000);
      this.retry.unref();
    };
    client.on('error', (err) => fail(err.message));
    client.on('end', () => fail('session closed'));
    client.on('notification', (n) => {
      if (n.channel !== CHANNEL || n.payload === undefined) return;
      for (const l of this.listeners) {
        try {
          l(n.payload);
        } catch (err) {
          this.logger.error('replica event listener failed', { error: String(err) });
        }
      }
    });
    await client.connect();
    await client.query(`listen ${CHANNEL}`);
    if (this.closed) {
      await client.end();
      return;
    }
    this.client = client;
  }
}
