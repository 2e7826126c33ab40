import type { MqttClient } from 'mqtt';
import {
  checkKeysetUpdate, checkReceipt, encodeAck, encodeHello, encodeReport, envelopeSha256, parseTopic,
  toHex, topicFor, type Ack, type Report, type ReportResult,
} from '../shared/index';
import { skewedClock, systemClock, unixSeconds, type Clock } from './clock';
import { DeviceLink, LinkAbort } from './device-link';
import { isSettled, transition, type ConnState, type UpdateEvent, type UpdateState } from './device-state';
import type { StoredState } from './device-storage';
import {
  defaultProbe, helloFor, linkTuning, receiptContext, type DeviceEvent, type HostAddress, type SimulatedDeviceOptions,
} from './device-types';
import { DEVICE_RECEIPT_OPTIONS } from './receipt-options';
import { corruptFile, SimulatedCrash } from './faults';
import { checkEnforcedHosts, liveServedPins } from './verify-hosts';
import { claimedSeq } from './claimed-seq';
import { decideTrust } from './pin-policy';

/**
 * A simulated device that behaves like firmware (SPEC §4–§6): it pins the broker from its installed set,
 * says hello on every connect, checks every update with the shared SPEC §4 receipt check against its own
 * state and clock, persists atomically before acking "applied", then verifies the new set by TLS handshakes
 * to each enforced host it can reach and acks "verified". Keyset envelopes go through checkKeysetUpdate.
 */
export type { DeviceEvent, DeviceIdentity, HostAddress, SimulatedDeviceOptions } from './device-types';
const MAX_PENDING_REPORTS = 32;

export class SimulatedDevice {
  readonly id: string;
  conn: ConnState = 'offline';
  update: UpdateState = { kind: 'idle' };
  state!: StoredState;
  private readonly clock: Clock;
  private readonly link: DeviceLink;
  private chain: Promise<unknown> = Promise.resolve();
  private lastServed: readonly Uint8Array[] = [];
  private dead = false;
  private flapTimer: NodeJS.Timeout | undefined;
  private readonly inflight = new Set<Report>();

  constructor(private readonly o: SimulatedDeviceOptions) {
    this.id = o.identity.deviceId;
    this.clock = skewedClock(o.clock ?? systemClock, o.faults?.clockSkewSeconds ?? 0); // clock-skew fault
    this.link = new DeviceLink({
      clientId: this.id,
      username: this.id,
      password: o.identity.credential,
      broker: o.broker,
      ...linkTuning(o),
      decide: (served, caValid) =>
        decideTrust({ pinset: this.state.pinset, hostname: o.broker.hostname, served, caValid, nowSec: this.nowSec() }),
      onDecision: (d, served) => {
        this.lastServed = served;
        if (!d.allow) {
          this.conn = 'refused';
          this.emit({ type: 'refused', reason: d.reason, served });
        }
        if (d.report !== undefined) void this.serial(() => this.queueReport(o.broker.hostname, o.broker.port, d.report as ReportResult, served));
      },
      onOnline: (client) => void this.onOnline(client),
      onOffline: (e) => {
        if (this.conn !== 'refused') this.conn = this.dead ? 'stopped' : 'offline';
        this.emit({ type: 'offline', ...(e !== undefined ? { error: e.message } : {}) });
      },
      onMessage: (topic, payload) => this.onMessage(topic, payload),
    });
  }

  private emit(e: DeviceEvent): void {
    this.o.onEvent?.(e);
  }

  private nowSec(): number {
    return unixSeconds(this.clock);
  }

  /** Serialises every state change and storage write of this device. */
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.chain.then(fn, fn);
    this.chain = next.catch(() => undefined);
    return next;
  }

  private step(e: UpdateEvent): void {
    const t = transition(this.update, e, this.clock.now());
    if (!t.ok) throw new Error(`${this.id}: ${t.error}`);
    this.update = t.state;
    this.emit({ type: 'state', state: t.state });
  }

  /** Boot: load storage (corruption detected there), then connect after `delayMs` (stagger, offline fault). */
  async start(delayMs = 0): Promise<void> {
    const f = this.o.faults ?? {};
    if (f.corruptStorage === true) {
      await this.o.storage.save((await this.o.storage.load()).state); // a file to damage, as failing flash would
      await corruptFile(this.o.storage.path);
    }
    const loaded = await this.o.storage.load();
    this.state = loaded.state;
    this.emit({
      type: 'booted', firstBoot: loaded.firstBoot, removedTemp: loaded.removedTemp,
      ...(loaded.corrupted !== undefined ? { corrupted: loaded.corrupted } : {}),
    });
    this.conn = 'connecting';
    this.link.start(delayMs + (f.offlineMs ?? 0));
  }

  /** Orderly shutdown (DISCONNECT). */
  async stop(): Promise<void> {
    this.halt(true);
    await this.chain;
  }

  private halt(graceful: boolean): void {
    this.dead = true;
    if (this.flapTimer !== undefined) clearTimeout(this.flapTimer);
    this.link.stop(graceful);
    this.conn = 'stopped';
  }

  /** Power loss: the object is torn down at once, no DISCONNECT, nothing more is written. */
  private crash(): never {
    this.halt(false);
    this.emit({ type: 'crash' });
    throw new LinkAbort('device crashed');
  }

  private async onOnline(client: MqttClient): Promise<void> {
    try {
      // Subscribe before hello so that a set the gateway sends in answer to the hello is not missed (SPEC §6).
      // The device counts as online once subscribed (the session is usable).
      await client.subscribeAsync([topicFor(this.id, 'update'), topicFor(this.id, 'keyset')], { qos: 1 });
      this.conn = 'online';
      this.emit({ type: 'online' });
      this.publish(client, 'hello', encodeHello(helloFor(this.o.identity, this.state, this.o.firmware)));
      await this.serial(() => this.flushReports(client));
      if (!this.state.verified && this.state.pinset !== undefined && this.update.kind !== 'verifying') void this.verify();
    } catch (e) {
      this.emit({ type: 'offline', error: `session setup failed: ${(e as Error).message}` });
    }
    const flap = this.o.faults?.flapMs;
    if (flap !== undefined && !this.dead) {
      const r = this.o.random ?? Math.random;
      this.flapTimer = setTimeout(() => this.link.bounce(Math.round(flap * r())), Math.round(flap * (0.5 + r())));
    }
  }

  /**
   * QoS 1 publish that never waits for the PUBACK: mqtt.js handles incoming packets one at a time and holds the
   * update's PUBACK until its handler resolves, so a handler that awaited a PUBACK would wait for itself.
   */
  private publish(client: MqttClient, kind: 'hello' | 'ack' | 'report', payload: Uint8Array, done?: (e?: Error) => void): void {
    client.publish(topicFor(this.id, kind), Buffer.from(payload), { qos: 1 }, (e) => done?.(e ?? undefined));
  }

  private async sendAck(ack: Ack): Promise<void> {
    this.emit({ type: 'ack', ack });
    const c = this.link.mqtt;
    if (c !== undefined) this.publish(c, 'ack', encodeAck(ack), (e) => e === undefined && this.emit({ type: 'acked', ack }));
  }

  private async onMessage(topic: string, payload: Uint8Array): Promise<void> {
    const t = parseTopic(topic);
    if (t === null || t.deviceId !== this.id) return; // not ours: ignore (the broker should never send it)
    if (t.kind === 'update') return this.serial(() => this.handleUpdate(payload));
    if (t.kind === 'keyset') return this.serial(() => this.handleKeyset(payload));
  }

  /** SPEC §4 on receipt: every check in order, then persist atomically, ack "applied", verify, ack "verified". */
  private async handleUpdate(envelope: Uint8Array): Promise<void> {
    if (this.dead) throw new LinkAbort('device is gone');
    const sha = envelopeSha256(envelope);
    this.step({ type: 'receive', sha256: toHex(sha) });
    this.step({ type: 'check' });
    const served = await liveServedPins(this.o.broker.hostname, this.lastServed, this.o.hostMap, this.o.probe ?? defaultProbe);
    const device = receiptContext(this.o.identity, this.state, served);
    const r = checkReceipt(envelope, this.state.keyset, device, this.nowSec(), DEVICE_RECEIPT_OPTIONS);
    const f = this.o.faults ?? {};
    if (!r.ok || (f.rejectCode !== undefined && !r.idempotent)) {
      const code = r.ok ? (f.rejectCode ?? 'E_SCHEMA') : r.code;
      this.step({ type: 'reject', code });
      return this.sendAck({ seq: r.ok ? r.pinset.seq : claimedSeq(envelope), sha256: sha, status: 'rejected', code });
    }
    this.step({ type: 'accept', seq: r.pinset.seq, idempotent: r.idempotent });
    if (r.idempotent) {
      // Same bytes again (QoS 1 re-delivery or a gateway retry): nothing is written, the last status is repeated;
      // if it interrupted the set's verification, that starts again.
      await this.sendAck({ seq: r.pinset.seq, sha256: sha, status: this.state.verified ? 'verified' : 'applied' });
      return this.state.verified ? undefined : void this.verify();
    }
    if (f.slowApplyMs !== undefined) await new Promise((res) => setTimeout(res, f.slowApplyMs));
    const next: StoredState = {
      envelope, pinset: r.pinset, seq: r.pinset.seq, sha256: sha, verified: false,
      keyset: this.state.keyset, pendingReports: this.state.pendingReports,
    };
    try {
      await this.o.storage.save(next, f.crashRestartMs !== undefined ? { afterTempWritten: () => { throw new SimulatedCrash(); } } : undefined);
    } catch (e) {
      if (e instanceof SimulatedCrash) this.crash();
      this.step({ type: 'reject', code: 'E_STORAGE' });
      return this.sendAck({ seq: r.pinset.seq, sha256: sha, status: 'rejected', code: 'E_STORAGE' });
    }
    this.state = next;
    this.step({ type: 'persisted' });
    await this.sendAck({ seq: r.pinset.seq, sha256: sha, status: 'applied' });
    void this.verify();
  }

  private addressOf(name: string): HostAddress | undefined {
    if (name === this.o.broker.hostname) return { address: this.o.broker.address, port: this.o.broker.port };
    return this.o.hostMap?.get(name);
  }

  /**
   * SPEC §6 "verified": a TLS handshake to each enforced host the device can reach, under the new set.
   * Never throws (it runs detached); a newer update arriving meanwhile supersedes it.
   */
  private async verify(): Promise<void> {
    try {
      const s = await this.serial(async () => {
        const st = this.state;
        if (st.pinset === undefined || st.sha256 === undefined || st.verified || this.dead || !isSettled(this.update)) return undefined;
        this.step({ type: 'verify', seq: st.seq, sha256: toHex(st.sha256) });
        return st;
      });
      if (s?.pinset === undefined || s.sha256 === undefined) return;
      const sha = s.sha256;
      const current = () => !this.dead && this.update.kind === 'verifying' && this.state.sha256 === sha;
      const outcome = await checkEnforcedHosts(s.pinset, (n) => this.addressOf(n), this.o.probe ?? defaultProbe);
      if (!outcome.ok) {
        const f = outcome.failed;
        return await this.serial(async () => {
          if (!current()) return;
          this.step({ type: 'verifyFailed', host: f.name });
          await this.queueReport(f.name, f.port, 'mismatch', f.served);
        });
      }
      const oks = outcome.verified;
      await this.serial(async () => {
        if (!current()) return; // superseded or torn down meanwhile
        const oksReports = oks.map((h) => this.report(h.name, h.port, 'ok', h.served));
        const pendingReports = [...this.state.pendingReports, ...oksReports].slice(-MAX_PENDING_REPORTS);
        const next = { ...this.state, verified: true, pendingReports };
        await this.o.storage.save(next); // one write: the verified flag and the "ok" reports
        this.state = next;
        this.step({ type: 'verified' });
        await this.sendAck({ seq: s.seq, sha256: sha, status: 'verified' });
        const c = this.link.mqtt;
        if (c !== undefined) await this.flushReports(c);
      });
    } catch (e) {
      this.emit({ type: 'offline', error: `verification aborted: ${(e as Error).message}` });
    }
  }

  /** SPEC §5: version = current + 1 only, signed by a key the device trusts now. */
  private async handleKeyset(envelope: Uint8Array): Promise<void> {
    if (this.dead) throw new LinkAbort('device is gone');
    const r = checkKeysetUpdate(envelope, this.state.keyset, this.nowSec(), DEVICE_RECEIPT_OPTIONS);
    if (!r.ok) return this.emit({ type: 'keyset', ok: false, code: r.code });
    const next: StoredState = { ...this.state, keyset: r.keyset, envelopeKeyset: this.state.envelopeKeyset ?? this.state.keyset };
    const saved = await this.o.storage.save(next).then(() => true, () => false);
    if (!saved) return this.emit({ type: 'keyset', ok: false, code: 'E_STORAGE' });
    this.state = next;
    this.emit({ type: 'keyset', ok: true, version: r.keyset.version });
    const c = this.link.mqtt; // SPEC §6 has no keyset ack: the device announces its new keysetVersion in a hello
    if (c !== undefined) this.publish(c, 'hello', encodeHello(helloFor(this.o.identity, this.state, this.o.firmware)));
  }

  /** SPEC §6 report: stored (so it survives a refused connection or a reboot), sent on the next good connection. */
  private async queueReport(host: string, port: number, result: ReportResult, served: readonly Uint8Array[]): Promise<void> {
    const report = this.report(host, port, result, served);
    this.state = { ...this.state, pendingReports: [...this.state.pendingReports, report].slice(-MAX_PENDING_REPORTS) };
    await this.o.storage.save(this.state).catch(() => undefined);
    const c = this.link.mqtt;
    if (c !== undefined) await this.flushReports(c);
  }

  /**
   * Publishes the stored reports; each is removed from storage once the broker acknowledged it (PUBACK), so a
   * report lost with a dropped connection is sent again on the next one.
   */
  private report(host: string, port: number, result: ReportResult, served: readonly Uint8Array[]): Report {
    return { host, port, result, servedPins: served.slice(0, 16), installedSeq: this.state.seq, time: this.nowSec() };
  }

  private async flushReports(client: MqttClient): Promise<void> {
    for (const r of this.state.pendingReports) {
      if (this.inflight.has(r)) continue;
      this.inflight.add(r);
      this.publish(client, 'report', encodeReport(r), (e) => {
        this.inflight.delete(r);
        if (e !== undefined) return;
        this.emit({ type: 'report', report: r });
        // Dropped in memory only: the next write of the flash carries the shorter list (a reboot before that
        // re-sends the report once, which the gateway must tolerate anyway under QoS 1).
        this.state = { ...this.state, pendingReports: this.state.pendingReports.filter((x) => x !== r) };
      });
    }
  }
}
