import type { AuditRepo, DeviceRepo, PinSetRepo, RolloutRepo, RolloutRow, TelemetryRepo } from '../registry/repositories';
import type { PinSetRow } from '../registry/rows';
import { toHex } from '../../shared/index';
import { DomainError } from '../errors/domain-error';
import type { Fence } from '../registry/leader-lock';
import type { BrowserEventStream } from '../events/browser-event-stream';
import type { Clock } from '../clock';
import type { Registry } from '../registry/registry';
import type { Logger } from '../logger';
import type { Delivery } from '../protocol/delivery';
import type { AckEvent, DecommissionEvent, EventBus } from '../events/event-bus';
import { applyOperatorCommand, isActiveExecution, matchesSelector, newerSeqInTheWay, onDecommission, onHello, step, supersede, type OperatorCommand, type Selector } from '../rollout-engine/index';
import { FleetDirectory } from './fleet-directory';
import { RolloutCommitter } from './rollout-committer';
import { RolloutJournal } from './rollout-journal';
import { enqueue, loadSlot, needsTicks, type PendingAck, type Slot } from './rollout-slot';
import { ScheduledStarts } from './scheduled-starts';

export interface RolloutDriverOptions {
  /** A running rollout is stepped at its next wake-up (engine's nextWakeAt) and at least every tickMs. */
  tickMs: number;
  /** Delay between a device event (ack, hello, report, enrolment) and the step that evaluates its gates. */
  eventDelayMs: number;
  /** false: no timers at all; tests call tick() and move an injected clock. */
  autoTick: boolean;
}

export interface RolloutDriverDeps {
  registry: Pick<Registry, 'transaction'>;
  devices: Pick<DeviceRepo, 'directory'>;
  rollouts: RolloutRepo;
  pinsets: PinSetRepo;
  telemetry: TelemetryRepo;
  delivery: Delivery;
  events: EventBus;
  hub: BrowserEventStream;
  audit: AuditRepo;
  clock: Clock;
  logger: Logger;
  /** Replicas: this term's fence, checked by every commit (rollout-committer.ts); absent = no election. */
  fence?: () => Fence | null;
  /** Replicas: a commit was refused because another replica leads now (the election steps down at once). */
  onFenced?: (reason: string) => void;
}

/** Acks committed in one transaction at most (bounds the time one job holds the event loop). */
const MAX_ACK_BATCH = 500;

/**
 * Timed steps take at most this share of the event loop. A step reads every execution of its rollout (the engine
 * is pure: `step` gets them all), ~1 s at 1,000,000 devices on a loaded 2-core machine; stepped every tick and
 * 20 ms after each ack batch, it held the loop most of the time and starved the very acks it waits for
 * (bench/million.ts, docs/million.md). Small fleets step in microseconds: unchanged for them.
 */
const STEP_SHARE = 0.25;

/**
 * The I/O around the pure rollout engine (gateway/rollout): it runs `step` on a timer, feeds device events into
 * `onHello` / `onAck`, applies operator commands, and for every result commits the snapshot and the changed
 * executions in one transaction, then (only after the commit) publishes the deliveries and writes the
 * audit log and live events. Calls are serialised per rollout (rollout-slot.ts).
 */
export class RolloutDriver {
  private readonly slots = new Map<string, Slot>();
  /** Slots being loaded (two callers that open the same rollout share one load). */
  private readonly opening = new Map<string, Promise<Slot>>();
  private readonly directory: FleetDirectory;
  private readonly committer: RolloutCommitter;
  private readonly unsubscribe: (() => void)[] = [];
  private stopped = false;
  private readonly scheduled: ScheduledStarts;
  private scheduledTimer: NodeJS.Timeout | null = null;
  /** Whether this driver runs the rollouts (started and not stopped): a follower replica's driver does not. */
  private leading = false;
  /** Replicas: sends a command to the leading replica (command-relay.ts) while this one does not lead. */
  private remote: ((id: string, command: OperatorCommand, actor: string, reason?: string) => Promise<void>) | null = null;

  constructor(
    private readonly deps: RolloutDriverDeps,
    private readonly options: RolloutDriverOptions,
  ) {
    this.directory = new FleetDirectory(deps.devices);
    this.committer = new RolloutCommitter(deps, new RolloutJournal(deps));
    this.scheduled = new ScheduledStarts(deps, (id) => this.command(id, { type: 'start' }, 'scheduler'));
  }

  /** Loads every rollout that still has work (a restart resumes each exactly where it was) and subscribes. */
  async start(): Promise<void> {
    const { rollouts, events, clock } = this.deps;
    // a replica that leads again after stepping down starts from the registry, like a restart
    this.stopped = false;
    this.leading = true;
    // fleet-wide: with replicas, device messages are ingested by every replica and relayed to this one (it leads)
    this.unsubscribe.push(
      events.onFleetWide('ack', (e) => this.onAckEvent(e)),
      events.onFleetWide('ackRepeated', (e) => this.onAckEvent(e)),
      events.onFleetWide('hello', (e) => this.onHelloEvent(e.deviceId)),
      events.onFleetWide('report', (e) => this.onReport(e.deviceId, e.report.installedSeq, e.report.result, e.at)),
      events.onFleetWide('online', (e) => this.directory.connection(e.deviceId, true, e.at)),
      events.onFleetWide('offline', (e) => this.directory.connection(e.deviceId, false, e.at)),
      events.onFleetWide('enrolled', (e) => {
        this.directory.add(e.fleet, { deviceId: e.deviceId, deviceClass: e.deviceClass, labels: e.labels, online: false });
        for (const s of this.slotsOf(e.fleet)) this.wakeSoon(s);
      }),
      events.onFleetWide('decommissioned', (e) => this.onFleetChange(e, false)),
      events.onFleetWide('recommissioned', (e) => this.onFleetChange(e, true)),
    );
    // subscribed first: an ack committed after a rollout's catch-up read below reaches it as an event (a leader
    // taking over misses none of the acks the other replicas commit meanwhile)
    for (const row of await rollouts.active()) {
      const slot = await this.open(row);
      await this.catchUpAcks(slot);
      this.schedule(slot, clock.now());
    }
    // DRAFTs with a schedule.startAt are started by the clock (checked every tick)
    if (this.options.autoTick) this.scheduledTimer = setInterval(() => void this.scheduled.run(), this.options.tickMs);
  }

  /** Stops the timers and waits for the jobs in flight (their results are committed before the database closes). */
  async stop(): Promise<void> {
    this.stopped = true;
    this.leading = false;
    this.unsubscribe.splice(0).forEach((u) => u());
    if (this.scheduledTimer !== null) clearInterval(this.scheduledTimer);
    this.scheduledTimer = null;
    for (const s of this.slots.values()) this.clearTimer(s);
    await Promise.all([...this.slots.values()].map((s) => s.queue));
    this.slots.clear(); // a later start() (this replica leads again) reloads them from the registry
  }

  /** Replicas: while this driver does not lead, operator commands go to the leader through `remote`. */
  forwardCommands(remote: ((id: string, command: OperatorCommand, actor: string, reason?: string) => Promise<void>) | null): void {
    this.remote = remote;
  }

  /** Steps one rollout (or all) now; resolves when done. Tests drive the engine with this and a manual clock. */
  async tick(id?: string): Promise<void> {
    if (id === undefined) await this.scheduled.run();
    const slots = id === undefined ? [...this.slots.values()] : [this.slots.get(id)].filter((s): s is Slot => s !== undefined);
    await Promise.all(slots.map((s) => enqueue(s, () => this.stepNow(s))));
  }

  /**
   * How many devices of the fleet a rollout's target selects now (not decommissioned): the whole of what the rollout
   * is meant to reach, the denominator of its progress (issue 15). From the in-memory directory when a rollout of
   * the fleet is loaded; otherwise read once and not kept.
   */
  async targetSize(fleet: string, target: Selector): Promise<number> {
    const devices = await this.directory.devices(fleet);
    if (![...this.slots.values()].some((s) => s.fleet === fleet)) this.directory.retain(new Set([...this.slots.values()].map((s) => s.fleet)));
    let n = 0;
    for (const d of devices) if (matchesSelector(d, target)) n += 1;
    return n;
  }

  /** Whether the rollouts own this pin set, so that a hello must not deliver it (hello-handler). */
  heldBack = async (pinset: PinSetRow): Promise<boolean> => pinset.releasedAt === null && (await this.deps.rollouts.ownsPinSet(pinset.id));

  /**
   * Applies an operator command (serialised with the rollout's other work); throws DomainError. `reason`: why the
   * operator did it (any command; pause and abort also carry it in their state), written to the audit entry.
   */
  async command(id: string, command: OperatorCommand, actor: string, reason?: string): Promise<void> {
    if (!this.leading && this.remote !== null) return this.remote(id, command, actor, reason);
    const row = await this.deps.rollouts.get(id);
    if (row === undefined) throw DomainError.notFound(`rollout "${id}"`);
    const slot = this.slots.get(id) ?? (await this.open(row));
    try {
      await this.runCommand(slot, command, actor, reason);
    } catch (err) {
      if (err instanceof DomainError && err.code === 'E_NOT_LEADER') this.deps.onFenced?.(err.message);
      throw err;
    } finally {
      if (!needsTicks(slot) && this.slots.get(id) === slot) this.close(slot);
    }
  }

  private runCommand(slot: Slot, command: OperatorCommand, actor: string, why?: string): Promise<void> {
    const id = slot.id;
    return enqueue(slot, async () => {
      const { clock, audit } = this.deps;
      // a step queued before this job may have closed the slot (nothing left to do); the command may give it work again
      if (!this.slots.has(id)) this.slots.set(id, slot);
      if (command.type === 'start') await this.checkNoNewerStarted(slot);
      const now = clock.now();
      const devices = await this.directory.devices(slot.fleet);
      const r = applyOperatorCommand(slot.snapshot, command, { now, executions: [...slot.execs.values()], devices });
      const given = why ?? ('reason' in command ? command.reason : undefined);
      const reason = given !== undefined && given !== '' ? { reason: given } : {};
      if (!r.ok) {
        // a refused action is part of the story too (who tried what, when, why it was refused)
        await audit.append(actor, `rollout.${command.type}.refused`, id, { state: slot.snapshot.state.kind, error: r.error.message, ...reason });
        throw new DomainError('E_TRANSITION', r.error.message);
      }
      const s = r.result.rollout.state;
      const wave = s.kind === 'RUNNING' || s.kind === 'PAUSED' ? { wave: s.wave } : {};
      await audit.append(actor, `rollout.${command.type}`, id, { from: slot.snapshot.state.kind, to: s.kind, ...wave, ...reason });
      await this.committer.commit(slot, r.result, actor, undefined, true);
      this.deps.hub.publish({ type: 'rollout', id, fleet: slot.fleet, state: slot.snapshot.state.kind, action: command.type });
      if (command.type === 'start') await this.supersedeOlder(slot, actor);
      await this.stepNow(slot);
    });
  }

  // ---- engine calls -------------------------------------------------------------------------------------------

  private async stepNow(slot: Slot): Promise<void> {
    if (this.stopped) return;
    const now = this.deps.clock.now();
    await this.refreshTelemetry(slot);
    const devices = await this.directory.devices(slot.fleet);
    // process time, not the injected clock: it measures the CPU the pure step takes, it decides no rollout time
    // (every SPEC §7 timer is compared with `now`); the commit and the deliveries after it are not counted
    const began = performance.now();
    const r = step(slot.snapshot, {
      now,
      executions: [...slot.execs.values()],
      devices,
      telemetry: { reports: slot.tele.reporters.size, mismatches: slot.tele.mismatchers.size },
    });
    const ended = performance.now();
    slot.quietUntil = ended + ((ended - began) * (1 - STEP_SHARE)) / STEP_SHARE;
    await this.committer.commit(slot, r, 'gateway', r.gate === null ? undefined : { at: now, decision: r.gate });
    if (!needsTicks(slot)) {
      this.close(slot);
      return;
    }
    const next = Math.min(r.nextWakeAt ?? Number.POSITIVE_INFINITY, now + this.options.tickMs);
    this.schedule(slot, next);
  }

  private onAckEvent(e: AckEvent): void {
    if (e.pinsetId === null) return;
    const sha = toHex(e.ack.sha256);
    for (const slot of this.slots.values()) {
      if (slot.pinset.id !== e.pinsetId || slot.pinset.sha256 !== sha || !slot.execs.has(e.deviceId)) continue;
      const ack: PendingAck = { deviceId: e.deviceId, status: e.ack.status, ...(e.ack.code === undefined ? {} : { code: e.ack.code }) };
      // Acks come in bursts (the ingest writer commits up to PINGW_INGEST_MAX_ROWS at once): while the last job
      // queued on the slot is an ack batch that has not started, join it, so a burst is one transaction.
      if (slot.ackBatch !== null && slot.ackBatch.length < MAX_ACK_BATCH) {
        slot.ackBatch.push(ack);
        continue;
      }
      const batch: PendingAck[] = [ack];
      void enqueue(slot, () => this.applyAcks(slot, batch)).catch((err) => this.fail(slot, err));
      slot.ackBatch = batch;
    }
  }

  private async applyAcks(slot: Slot, batch: PendingAck[]): Promise<void> {
    if (slot.ackBatch === batch) slot.ackBatch = null; // started: later acks queue a new job
    if (await this.committer.acks(slot, batch)) this.wakeSoon(slot);
  }

  private async applyAck(slot: Slot, deviceId: string, status: 'applied' | 'verified' | 'rejected', code?: string): Promise<void> {
    if (await this.committer.ack(slot, deviceId, status, code)) this.wakeSoon(slot);
  }

  private onHelloEvent(deviceId: string): void {
    const fleet = this.directory.fleetOf(deviceId);
    if (fleet === undefined) return;
    this.directory.setOnline(deviceId, true);
    for (const slot of this.slotsOf(fleet)) {
      void enqueue(slot, async () => {
        const device = await this.directory.get(fleet, deviceId);
        if (device === undefined) return;
        const exec = slot.execs.get(deviceId);
        // delivered on this very connection (between CONNECT and the hello): not a lost attempt, nothing to redo
        const since = this.directory.connectedAt(deviceId);
        if (exec?.state.kind === 'DELIVERED' && since !== undefined && exec.state.deliveredAt >= since) return;
        const r = onHello(slot.snapshot, exec, device, this.deps.clock.now());
        await this.committer.commit(slot, r, 'gateway');
        this.wakeSoon(slot);
      }).catch((err) => this.fail(slot, err));
    }
  }

  /** A device left the fleet or came back: the directory, and its execution in every rollout of the fleet. */
  private onFleetChange(e: DecommissionEvent, back: boolean): void {
    if (back) this.directory.add(e.fleet, { deviceId: e.deviceId, deviceClass: e.deviceClass, labels: e.labels, online: false });
    else this.directory.remove(e.fleet, e.deviceId);
    for (const slot of this.slotsOf(e.fleet)) {
      void enqueue(slot, async () => {
        const exec = slot.execs.get(e.deviceId);
        if (exec !== undefined) await this.committer.commit(slot, onDecommission(slot.snapshot, exec, !back, this.deps.clock.now()), e.actor);
        this.wakeSoon(slot);
      }).catch((err) => this.fail(slot, err));
    }
  }

  private onReport(deviceId: string, installedSeq: number, result: string, at: number): void {
    const fleet = this.directory.fleetOf(deviceId);
    if (fleet === undefined) return;
    for (const slot of this.slotsOf(fleet)) {
      const s = slot.snapshot;
      if (installedSeq !== s.seq || !slot.execs.has(deviceId) || slot.tele.since !== s.gateWindowStart || at < s.gateWindowStart) continue;
      const before = slot.tele.reporters.size + slot.tele.mismatchers.size;
      slot.tele.reporters.add(deviceId);
      if (result === 'mismatch') slot.tele.mismatchers.add(deviceId);
      if (slot.tele.reporters.size + slot.tele.mismatchers.size !== before) this.wakeSoon(slot); // a new device counts
    }
  }

  // ---- rollouts across a fleet ------------------------------------------------------------------------------------

  private async checkNoNewerStarted(slot: Slot): Promise<void> {
    const newer = newerSeqInTheWay(await this.deps.rollouts.list({ fleet: slot.fleet }), slot.snapshot.seq);
    if (newer !== undefined) {
      throw new DomainError('E_SEQ', `rollout ${newer.id} of the newer seq ${newer.seq} already runs for fleet "${slot.fleet}"`);
    }
  }

  /** SPEC §7: a newer pin set for the fleet supersedes the older rollouts (their pending devices never get it). */
  private async supersedeOlder(slot: Slot, actor: string): Promise<void> {
    const older = (await this.deps.rollouts.list({ fleet: slot.fleet })).filter((r) => r.id !== slot.id && r.seq < slot.snapshot.seq);
    for (const row of older) {
      const other = this.slots.get(row.id) ?? (row.state === 'DRAFT' ? await this.open(row) : undefined);
      if (other === undefined) continue;
      await enqueue(other, async () => {
        const before = other.snapshot.state.kind;
        const r = supersede(other.snapshot, [...other.execs.values()], slot.id, this.deps.clock.now());
        if (r.executions.length === 0 && r.rollout.state.kind === before) return;
        await this.deps.audit.append(actor, 'rollout.superseded', other.id, { by: slot.id, from: before, executions: r.executions.length });
        await this.committer.commit(other, r, actor);
      });
      if (!needsTicks(other)) this.close(other);
    }
  }

  // ---- slots, timers ---------------------------------------------------------------------------------------------

  /** Loads a rollout into memory; close() removes it again once it has nothing left to do. */
  private open(row: RolloutRow): Promise<Slot> {
    let opening = this.opening.get(row.id);
    if (opening === undefined) {
      opening = (async () => {
        const pinset = await this.deps.pinsets.get(row.pinsetId);
        if (pinset === undefined) throw new Error(`rollout ${row.id}: pin set ${row.pinsetId} is missing`);
        const slot = await loadSlot(row, pinset, this.deps.rollouts);
        this.slots.set(row.id, slot);
        return slot;
      })().finally(() => this.opening.delete(row.id));
      this.opening.set(row.id, opening);
    }
    return opening;
  }

  private close(slot: Slot): void {
    this.clearTimer(slot);
    this.slots.delete(slot.id);
    this.directory.retain(new Set([...this.slots.values()].map((s) => s.fleet)));
  }

  private slotsOf(fleet: string): Slot[] {
    return [...this.slots.values()].filter((s) => s.fleet === fleet && s.snapshot.state.kind !== 'DRAFT');
  }

  private wakeSoon(slot: Slot): void {
    this.schedule(slot, this.deps.clock.now() + this.options.eventDelayMs);
  }

  private schedule(slot: Slot, at: number): void {
    if (!this.options.autoTick || this.stopped) return;
    if (slot.timerAt !== null && slot.timerAt <= at) return;
    this.clearTimer(slot);
    slot.timerAt = at;
    slot.timer = setTimeout(() => {
      slot.timer = null;
      slot.timerAt = null;
      void enqueue(slot, () => this.stepNow(slot)).catch((err) => this.fail(slot, err));
    }, Math.max(0, at - this.deps.clock.now(), slot.quietUntil - performance.now()));
  }

  private clearTimer(slot: Slot): void {
    if (slot.timer !== null) clearTimeout(slot.timer);
    slot.timer = null;
    slot.timerAt = null;
  }

  /** The telemetry window follows the snapshot's gate window; when it moves, count it again from the reports. */
  private async refreshTelemetry(slot: Slot): Promise<void> {
    const since = slot.snapshot.gateWindowStart;
    if (slot.tele.since === since) return;
    const reporters = await this.deps.telemetry.rolloutReporters(slot.id, slot.snapshot.seq, since);
    slot.tele = { since, reporters: new Set(reporters.map((r) => r.deviceId)), mismatchers: new Set(reporters.filter((r) => r.mismatch).map((r) => r.deviceId)) };
  }

  /** After a restart: acks committed before the stop whose effect the driver had not committed yet. */
  private async catchUpAcks(slot: Slot): Promise<void> {
    for (const e of [...slot.execs.values()]) {
      if (!isActiveExecution(e.state) || e.state.kind === 'QUEUED') continue;
      // APPLIED reads every ack of this set: appliedAt is the old leader's clock when it *processed* "applied", and
      // the device's "verified" may have been committed by another replica before that (the leader's queue lags the
      // ingest), so reading from appliedAt would miss it and leave the device waiting for its verify timeout. Older
      // acks are harmless there: at or below the current step they are no-ops, "rejected" after APPLIED too
      // (execution-state.ts). DELIVERED keeps its bound: an earlier attempt's "rejected" must not end this one.
      const since = e.state.kind === 'DELIVERED' ? e.state.deliveredAt : 0;
      for (const a of await this.deps.rollouts.acksSince(e.deviceId, slot.pinset.sha256, since)) {
        const status = a.status as 'applied' | 'verified' | 'rejected';
        void enqueue(slot, () => this.applyAck(slot, e.deviceId, status, a.code ?? undefined)).catch((err) => this.fail(slot, err));
      }
    }
  }

  private fail(slot: Slot, err: unknown): void {
    if (err instanceof DomainError && err.code === 'E_NOT_LEADER') {
      this.deps.logger.warn('rollout write refused: another replica leads now', { rollout: slot.id, error: err.message });
      this.deps.onFenced?.(err.message);
      return;
    }
    this.deps.logger.error('rollout driver job failed', { rollout: slot.id, error: err instanceof Error ? (err.stack ?? err.message) : String(err) });
  }
}
