import {
  checkReceipt, killSetFrom, matchKillSet, pinSetToJson, type KillMode, type PinSetJson,
} from '../../shared/index';
import type { Clock } from '../clock';
import { DomainError } from '../errors/domain-error';
import type { EventBus } from '../events/event-bus';
import type { BrowserEventStream } from '../events/browser-event-stream';
import type { Logger } from '../logger';
import type { TrustedKeysets } from '../keysets/trusted-keysets';
import type { PinSetPublisher } from '../pinsets/pinset-publisher';
import type { Delivery } from '../protocol/delivery';
import type { AuditRepo, DeviceRepo, KillSwitchRepo, PinSetRepo, RolloutRepo } from '../registry/repositories';
import type { PinSetRow } from '../registry/rows';
import type { RolloutDriver } from '../rollout-driver/rollout-driver';
import type { KillSwitchRow } from '../registry/lifecycle-rows';
import { killSwitchView, type KillSwitchView } from './kill-switch-view';

/** Deliveries in flight at once when a kill set goes to the whole fleet (publishes are cheap; the DB lookups are not free). */
const DELIVERY_PARALLELISM = 64;

export interface KillSwitchDeps {
  store: KillSwitchRepo;
  pinsets: PinSetRepo;
  devices: DeviceRepo;
  rollouts: RolloutRepo;
  driver: RolloutDriver;
  publisher: PinSetPublisher;
  trusted: TrustedKeysets;
  delivery: Delivery;
  audit: AuditRepo;
  events: EventBus;
  hub: BrowserEventStream;
  clock: Clock;
  logger: Logger;
  validityDays: number;
}

export interface EngageResult extends KillSwitchView {
  delivery: { devices: number; published: number; queued: number; alreadyInstalled: number; refused: number };
}

/**
 * The emergency kill switch (issue 16 §1): one step that makes every device of a fleet stop enforcing one host.
 * A new pin set — the fleet's newest set with that host no longer enforced (shared/pinset/kill-set.ts) — is signed
 * (here, or offline with `pinctl kill`), released to the whole fleet and delivered to every device at once:
 * no waves, no gates (SPEC §7 waves exist to limit the damage of a bad set; a kill set only relaxes pinning).
 * Running rollouts of the fleet are aborted with the kill's reason: their older seq would be refused by
 * devices anyway (SPEC §4 E_ROLLBACK). A later normal rollout of a set that enforces the host again re-enables
 * pinning, wave by wave.
 */
export class KillSwitch {
  private readonly byPinSet = new Map<number, number>();

  constructor(private readonly deps: KillSwitchDeps) {
    // live coverage of a kill set: its acks move the counts; one coalesced browser event per burst
    deps.events.on('ack', (e) => {
      const id = e.pinsetId === null ? undefined : this.byPinSet.get(e.pinsetId);
      if (id === undefined) return;
      // the browser event only says "changed": the page reads the new coverage through the API
      deps.hub.coalesce(`kill-switch:${id}`, () => ({ type: 'kill-switch', id }));
    });
  }

  /** Loads which pin sets are kill sets (for live coverage events); start.ts awaits it once. */
  async load(): Promise<void> {
    for (const k of await this.deps.store.list(undefined, 1000)) this.byPinSet.set(k.pinsetId, k.id);
  }

  /** Builds, signs and fires the kill set of `host` over the fleet's newest set. */
  async engage(input: { fleet: string; host: string; mode: KillMode; reason: string }, actor: string): Promise<EngageResult> {
    const { pinsets, publisher, clock, validityDays } = this.deps;
    const base = await this.newest(input.fleet);
    const now = Math.floor(clock.now() / 1000); // SPEC §2 times are unix seconds
    const built = killSetFrom(base.json as PinSetJson, input.host, input.mode, {
      seq: (await pinsets.maxSeq(input.fleet)) + 1,
      issuedAt: now,
      notAfter: now + validityDays * 86_400,
    });
    if (!built.ok) throw new DomainError(built.error.includes('not in the base set') ? 'E_NOT_FOUND' : 'E_BAD_BODY', built.error);
    const published = await publisher.createFromJson({ ...built.value, format: 1 }, actor);
    return this.fire({ ...input, host: input.host.toLowerCase() }, published.id, base, 'gateway', actor);
  }

  /** The offline variant: an envelope made with `pinctl kill`, accepted only if it is exactly the kill set of `host`. */
  async engageSigned(input: { envelope: Uint8Array; host: string; reason: string }, actor: string): Promise<EngageResult> {
    const receipt = checkReceipt(input.envelope, await this.deps.trusted.current());
    if (!receipt.ok) throw new DomainError(receipt.code, receipt.detail);
    const fleet = receipt.pinset.target.fleet;
    const base = await this.newest(fleet);
    const match = matchKillSet(base.json as PinSetJson, pinSetToJson(receipt.pinset), input.host);
    if (!match.ok) {
      await this.deps.audit.append(actor, 'killswitch.refused', `${fleet}/${input.host.toLowerCase()}`, { reason: input.reason, why: match.error });
      throw new DomainError('E_NOT_KILL_SET', `the envelope is not a kill set of ${input.host} for fleet "${fleet}": ${match.error}`);
    }
    const published = await this.deps.publisher.createFromEnvelope(input.envelope, actor);
    return this.fire({ fleet, host: input.host.toLowerCase(), mode: match.value, reason: input.reason }, published.id, base, 'offline', actor);
  }

  async view(id: number): Promise<KillSwitchView> {
    const row = await this.deps.store.get(id);
    if (row === undefined) throw DomainError.notFound(`kill switch ${id}`);
    return this.toView(row);
  }

  async list(fleet?: string): Promise<KillSwitchView[]> {
    return Promise.all((await this.deps.store.list(fleet)).map((r) => this.toView(r)));
  }

  private async toView(row: KillSwitchRow): Promise<KillSwitchView> {
    const later = (await this.deps.pinsets.list(row.fleet)).filter((p) => p.seq > row.seq);
    const counts = await this.deps.store.coverage(row.fleet, row.seq);
    return killSwitchView(row, counts, later.map((p) => ({ id: p.id, seq: p.seq, json: p.json as PinSetJson })));
  }

  private async newest(fleet: string): Promise<PinSetRow> {
    const base = (await this.deps.pinsets.list(fleet))[0];
    if (base === undefined) throw DomainError.notFound(`a pin set of fleet "${fleet}" (nothing to kill)`);
    return base;
  }

  private async fire(
    k: { fleet: string; host: string; mode: KillMode; reason: string },
    pinsetId: number,
    base: PinSetRow,
    source: 'gateway' | 'offline',
    actor: string,
  ): Promise<EngageResult> {
    const { store, pinsets, rollouts, driver, audit, events, hub, clock, logger } = this.deps;
    const kill = await pinsets.get(pinsetId);
    if (kill === undefined) throw new Error(`kill set ${pinsetId} vanished`);
    // released: every hello from now on (reconnects, late joiners) gets it, SPEC §7 "offline devices … on reconnect"
    await pinsets.markReleased(pinsetId, clock.now());
    const superseded: string[] = [];
    for (const r of await rollouts.list({ fleet: k.fleet })) {
      if (r.seq >= kill.seq || (r.state !== 'RUNNING' && r.state !== 'PAUSED')) continue;
      try {
        await driver.command(r.id, { type: 'abort', reason: `superseded by the kill switch of ${k.host} (seq ${kill.seq}): ${k.reason}` }, actor);
        superseded.push(r.id);
      } catch (err) {
        logger.warn('kill switch: could not abort a rollout', { rollout: r.id, error: String(err) });
      }
    }
    const row = await store.insert({
      fleet: k.fleet, host: k.host, mode: k.mode, reason: k.reason, pinsetId, seq: kill.seq, baseSeq: base.seq, source,
      supersededRollouts: superseded, createdAt: clock.now(), createdBy: actor,
    });
    this.byPinSet.set(pinsetId, row.id);
    await audit.append(actor, 'killswitch.engage', `${k.fleet}/${k.host}`, {
      id: row.id, mode: k.mode, reason: k.reason, pinsetId, seq: kill.seq, baseSeq: base.seq, source, supersededRollouts: superseded,
    });
    const delivery = await this.deliverAll(k.fleet, pinsetId);
    logger.warn('kill switch engaged', { id: row.id, fleet: k.fleet, host: k.host, mode: k.mode, seq: kill.seq, ...delivery });
    const at = clock.now();
    events.emit('killSwitch', { id: row.id, fleet: k.fleet, host: k.host, mode: k.mode, reason: k.reason, pinsetId, seq: kill.seq, actor, at });
    hub.publish({ type: 'kill-switch', id: row.id, fleet: k.fleet, host: k.host, engaged: true });
    return { ...(await this.toView(row)), delivery };
  }

  /** Every device of the fleet at once; connected ones get it now, the others on their next hello. */
  private async deliverAll(fleet: string, pinsetId: number): Promise<EngageResult['delivery']> {
    const ids = await this.deps.devices.idsOfFleet(fleet);
    const counts = { devices: ids.length, published: 0, queued: 0, alreadyInstalled: 0, refused: 0 };
    let next = 0;
    const worker = async () => {
      while (next < ids.length) {
        const id = ids[next++] as string;
        const r = await this.deps.delivery.deliver(id, pinsetId);
        if (!r.ok) counts.refused++;
        else if (r.status === 'published') counts.published++;
        else if (r.status === 'queued') counts.queued++;
        else counts.alreadyInstalled++;
      }
    };
    await Promise.all(Array.from({ length: Math.min(DELIVERY_PARALLELISM, ids.length) }, worker));
    return counts;
  }
}
