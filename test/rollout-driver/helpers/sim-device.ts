/**
 * A device as firmware behaves (SPEC §4, §6), for the rollout integration tests: connects with clientId =
 * deviceId over MQTT 3.1.1, says hello with what it holds, runs the real receipt check (shared checkReceipt) on
 * every update and acks "applied" then "verified", or "rejected" with the check's code. Its installed state
 * survives reconnects (and gateway restarts), as flash would.
 */
import { createHash } from 'node:crypto';
import mqtt, { type MqttClient } from 'mqtt';
import {
  checkReceipt, encodeAck, encodeHello, encodeReport, fromHex, parsePin, topicFor, type ReportResult, type TrustedKeyset,
} from '../../../shared/index';

export const HOST = 'api.example.com';

export function pinText(fill: number): string {
  return 'sha256/' + Buffer.alloc(32, fill).toString('base64');
}
export const PIN_A = pinText(1);
export const PIN_B = pinText(2);
export const PIN_C = pinText(3);
export const PIN_D = pinText(4);

function pinBytes(text: string): Uint8Array {
  const r = parsePin(text);
  if (!r.ok) throw new Error(r.error);
  return r.value;
}

export interface SimDeviceOptions {
  fleet: string;
  deviceClass?: string;
  keyset: TrustedKeyset;
  /** The key HOST serves as this device sees it (SPEC §4 E_WOULD_BRICK compares it to an enforced set). */
  served?: string;
}

export class SimDevice {
  client: MqttClient | null = null;
  installedSeq = 0;
  installedSha256: Uint8Array = new Uint8Array(32);
  updates = 0;
  readonly acks: { seq: number; status: string; code?: string }[] = [];
  private served: string;

  constructor(
    readonly id: string,
    readonly credential: string,
    private readonly opts: SimDeviceOptions,
  ) {
    this.served = opts.served ?? PIN_A;
  }

  /** Which key HOST serves to this device (a rejecter sees one the new set does not pin). */
  serve(pin: string): void {
    this.served = pin;
  }

  async connect(url: string): Promise<void> {
    const client = await mqtt.connectAsync(url, {
      clientId: this.id,
      username: this.id,
      password: this.credential,
      protocolVersion: 4,
      reconnectPeriod: 0,
      connectTimeout: 10_000,
    });
    this.client = client;
    client.on('message', (topic, payload) => {
      if (topic === topicFor(this.id, 'update')) void this.onUpdate(new Uint8Array(payload));
    });
    await client.subscribeAsync([topicFor(this.id, 'update'), topicFor(this.id, 'keyset')], { qos: 1 });
    await this.publish(
      'hello',
      encodeHello({
        firmware: '2.0.0',
        deviceClass: this.opts.deviceClass ?? 'class-a',
        fleet: this.opts.fleet,
        installedSeq: this.installedSeq,
        keysetVersion: this.opts.keyset.version,
        installedSha256: this.installedSha256,
      }),
    );
  }

  async disconnect(): Promise<void> {
    const c = this.client;
    this.client = null;
    if (c) await c.endAsync();
  }

  async report(result: ReportResult, served = this.served): Promise<void> {
    await this.publish(
      'report',
      encodeReport({ host: HOST, port: 443, result, servedPins: [pinBytes(served)], installedSeq: this.installedSeq, time: Math.floor(Date.now() / 1000) + this.reportCount++ }),
    );
  }
  private reportCount = 0;

  private async publish(kind: 'hello' | 'ack' | 'report', payload: Uint8Array): Promise<void> {
    if (!this.client) throw new Error(`${this.id} is not connected`);
    await this.client.publishAsync(topicFor(this.id, kind), Buffer.from(payload), { qos: 1 });
  }

  private async onUpdate(envelope: Uint8Array): Promise<void> {
    this.updates += 1;
    const r = checkReceipt(
      envelope,
      this.opts.keyset,
      {
        deviceId: this.id,
        fleet: this.opts.fleet,
        deviceClass: this.opts.deviceClass ?? 'class-a',
        installedSeq: this.installedSeq,
        installedSha256: this.installedSha256,
        keysetVersion: this.opts.keyset.version,
        servedPins: new Map([[HOST, [pinBytes(this.served)]]]),
      },
      Math.floor(Date.now() / 1000),
    );
    try {
      if (!r.ok) {
        // the ack names what was refused: the envelope's seq when its signed payload is readable
        const readable = checkReceipt(envelope, this.opts.keyset);
        const seq = readable.ok ? readable.pinset.seq : this.installedSeq;
        await this.ack({ seq, sha256: envelopeHash(envelope), status: 'rejected', code: r.code });
        return;
      }
      this.installedSeq = r.pinset.seq;
      this.installedSha256 = r.sha256;
      await this.ack({ seq: r.pinset.seq, sha256: r.sha256, status: 'applied' });
      await this.ack({ seq: r.pinset.seq, sha256: r.sha256, status: 'verified' });
    } catch {
      // disconnected meanwhile: the gateway redelivers after the reconnect
    }
  }

  private async ack(a: { seq: number; sha256: Uint8Array; status: 'applied' | 'verified' | 'rejected'; code?: string }): Promise<void> {
    this.acks.push({ seq: a.seq, status: a.status, ...(a.code === undefined ? {} : { code: a.code }) });
    await this.publish('ack', encodeAck(a as Parameters<typeof encodeAck>[0]));
  }
}

function envelopeHash(envelope: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(envelope).digest());
}

/** The gateway's current signer keyset as devices are provisioned with it (GET /api/keysets). */
export function keysetFrom(list: { version: number; publicKeys: string[] }[]): TrustedKeyset {
  const k = list[list.length - 1];
  if (!k) throw new Error('no keyset');
  return { version: k.version, publicKeys: k.publicKeys.map((h) => fromHex(h)) };
}
