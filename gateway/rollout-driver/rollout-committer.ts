import type { PinSetRepo, RolloutRepo } from '../registry/repositories';
import type { BrowserEventStream } from '../events/browser-event-stream';
import type { Clock } from '../clock';
import type { Registry } from '../registry/registry';
import type { Fence } from '../registry/leader-lock';
import { DomainError } from '../errors/domain-error';
import type { Logger } from '../logger';
import type { Delivery } from '../protocol/delivery';
import { isRest, onAck, summarizeExecutions, type ExecutionRecord, type RolloutCommand, type RolloutNote, type StepResult } from '../rollout-engine/index';
import type { RolloutJournal } from './rollout-journal';
import type { PendingAck, Slot } from './rollout-slot';

export interface CommitterDeps {
  registry: Pick<Registry, 'transaction'>;
  rollouts: RolloutRepo;
  pinsets: PinSetRepo;
  delivery: Delivery;
  hub: BrowserEventStream;
  clock: Clock;
  logger: Logger;
  /**
   * Replicas: the fence of this replica's leadership term, checked inside every commit (E_NOT_LEADER once another
   * replica took over); null = not leading now. Absent = no election (tests that drive the engine alone).
   */
  fence?: () => Fence | null;
}

/** Deliveries started together; the event loop gets a turn between two chunks. */
const SEND_CHUNK = 1000;

/**
 * Applies an engine result: snapshot + changed executions in ONE transaction (plus the release of the pin set
 * when the rollout completes), then the in-memory slot, the journal (audit + live events), and only after the
 * commit the deliveries. Callers hold the slot's queue (rollout-slot.ts `enqueue`).
 */
export class RolloutCommitter {
  constructor(
    private readonly deps: CommitterDeps,
    private readonly journal: RolloutJournal,
  ) {}

  async commit(slot: Slot, r: StepResult, actor: string, lastGate?: Record<string, unknown>, commandAudited = false): Promise<void> {
    const { registry, clock, hub } = this.deps;
    const now = clock.now();
    const completedNow = r.rollout.state.kind === 'COMPLETED' && slot.snapshot.state.kind !== 'COMPLETED';
    const fence = this.deps.fence === undefined ? undefined : this.deps.fence();
    if (fence === null) throw new DomainError('E_NOT_LEADER', `rollout ${slot.id}: this replica does not lead`);
    const write = async (tx: Parameters<Parameters<typeof registry.transaction>[0]>[0]) => {
      await tx.rollouts.save(r.rollout, r.executions, now, lastGate);
      // from now on every device of the fleet that lacks the set gets it on hello (late devices, stragglers) —
      // only when the plan ends with a "rest" wave: a plan that selects devices keeps the others out (issue 17)
      const last = r.rollout.plan.waves[r.rollout.plan.waves.length - 1];
      if (completedNow && last !== undefined && isRest(last)) await tx.pinsets.markReleased(slot.pinset.id, now);
    };
    // fenced: a frozen ex-leader's step is refused inside the transaction, before anything is written
    await (fence === undefined ? registry.transaction(write) : registry.transaction(write, fence));
    slot.snapshot = r.rollout;
    for (const e of r.executions) slot.execs.set(e.deviceId, e);
    await this.journal.record(actor, r.rollout, r.notes, () =>
      hub.coalesce(`executions:${slot.id}`, () => ({
        type: 'executions',
        id: slot.id,
        fleet: slot.fleet,
        counts: summarizeExecutions([...slot.execs.values()]).byKind,
      })),
      commandAudited,
    );
    if (r.commands.length > 0) await this.send(slot, r.commands);
  }

  /** A device's ack (or the gateway's verdict for it) into the engine; returns whether anything changed. */
  async ack(slot: Slot, deviceId: string, status: 'applied' | 'verified' | 'rejected', code?: string): Promise<boolean> {
    const exec = slot.execs.get(deviceId);
    if (exec === undefined) return false;
    const ack = { seq: slot.snapshot.seq, status, ...(code === undefined ? {} : { code }) };
    const r = onAck(slot.snapshot, exec, ack, this.deps.clock.now());
    if (r.executions.length === 0) return false;
    await this.commit(slot, r, 'gateway');
    return true;
  }

  /**
   * Several acks into the engine, one after the other (so an "applied" then "verified" of one device chain), and
   * committed together: one transaction for the batch. The same rows, snapshot and notes as `ack` called once per
   * ack (onAck never changes the snapshot nor sends anything); returns whether anything changed.
   */
  async acks(slot: Slot, batch: readonly PendingAck[]): Promise<boolean> {
    if (batch.length === 1) {
      const a = batch[0] as PendingAck;
      return this.ack(slot, a.deviceId, a.status, a.code);
    }
    const changed = new Map<string, ExecutionRecord>();
    const notes: RolloutNote[] = [];
    let rollout = slot.snapshot;
    for (const a of batch) {
      const exec = changed.get(a.deviceId) ?? slot.execs.get(a.deviceId);
      if (exec === undefined) continue;
      const ack = { seq: rollout.seq, status: a.status, ...(a.code === undefined ? {} : { code: a.code }) };
      const r = onAck(rollout, exec, ack, this.deps.clock.now());
      if (r.executions.length === 0) continue;
      for (const e of r.executions) changed.set(e.deviceId, e);
      notes.push(...r.notes);
      rollout = r.rollout;
    }
    if (changed.size === 0) return false;
    const executions = [...changed.keys()].sort().map((id) => changed.get(id) as ExecutionRecord);
    await this.commit(slot, { rollout, executions, commands: [], notes }, 'gateway');
    return true;
  }

  /** Publishes deliveries. A device the gateway cannot deliver to at all is rejected with a SPEC §4 code. */
  private async send(slot: Slot, commands: readonly RolloutCommand[]): Promise<void> {
    const { logger } = this.deps;
    const refused: { deviceId: string; code: string }[] = [];
    for (let i = 0; i < commands.length; i += SEND_CHUNK) {
      // a wave of 300,000 devices sent at once ran as one macrotask (each delivery's reads and write resolve as
      // microtasks): no timer, API answer or device message for minutes (bench/million.ts, docs/million.md)
      if (i > 0) await new Promise<void>((ok) => setImmediate(ok));
      await this.sendChunk(slot, commands.slice(i, i + SEND_CHUNK), refused);
    }
    for (const r of refused) {
      logger.warn('rollout cannot deliver to a device', { rollout: slot.id, ...r });
      await this.ack(slot, r.deviceId, 'rejected', r.code);
    }
  }

  private async sendChunk(slot: Slot, commands: readonly RolloutCommand[], refused: { deviceId: string; code: string }[]): Promise<void> {
    const { delivery, logger } = this.deps;
    // one read of the chunk's devices and one write of their assignments (Delivery.deliverMany), not one per device
    let results;
    try {
      results = await delivery.deliverMany(commands.map((c) => c.deviceId), slot.pinset);
    } catch (err) {
      // nothing of the chunk was sent: the engine's delivery timeout retries each device (SPEC §7)
      logger.warn('rollout delivery failed', { rollout: slot.id, devices: commands.length, error: String(err) });
      return;
    }
    await Promise.all(
      results.map(async (r) => {
        try {
          if (!r.ok) refused.push({ deviceId: r.deviceId, code: r.reason === 'expired' ? 'E_EXPIRED' : 'E_TARGET' });
          // the device says it holds this seq or newer: send anyway; it acks the same bytes again, or rejects
          else if (r.status === 'already-installed') await delivery.publishUpdate({ id: r.deviceId }, slot.pinset);
          // 'queued': it went offline meanwhile; the engine re-queues it on its next hello
        } catch (err) {
          logger.warn('rollout delivery failed', { rollout: slot.id, deviceId: r.deviceId, error: String(err) });
        }
      }),
    );
  }
}
