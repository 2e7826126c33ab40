import type { AuditRepo, PinSetRepo, RolloutRepo, RolloutRow } from '../registry/repositories';
import type { PinSetJson } from '../../shared/index';
import type { BrowserEventStream } from '../events/browser-event-stream';
import { DomainError } from '../errors/domain-error';
import type { Clock } from '../clock';
import { createRollout, newerSeqInTheWay, type DeliveryPolicy, type RateLimit } from '../rollout-engine/index';
import type { MaintenanceWindows } from '../rollout-engine/maintenance-window';
import type { RolloutSchedule } from '../rollout-engine/schedule';

/** POST /api/rollouts body after zod (shapes only; the engine validates the values). */
export interface CreateRolloutBody {
  pinsetId: number;
  plan?: unknown;
  gates?: Record<string, unknown> | undefined;
  manualApproval?: boolean | undefined;
  delivery?: Record<string, unknown> | undefined;
  rate?: Record<string, unknown> | undefined;
  schedule?: { startAt?: number | undefined; windows?: MaintenanceWindows | null | undefined } | undefined;
}

/** Gateway-wide defaults for new rollouts (typed config `rollouts`). */
export interface RolloutDefaults {
  rate: RateLimit;
  /** The success gate's soak time when POST /api/rollouts gives none (PINGW_ROLLOUT_SOAK_MS, 10 min by default). */
  soakMs: number;
  delivery: Pick<DeliveryPolicy, 'deliveryTimeoutMs' | 'verifyTimeoutMs' | 'maxAttempts'>;
  /** Maintenance windows per fleet (PINGW_MAINTENANCE_WINDOWS): copied into each new rollout of the fleet. */
  windows: Readonly<Record<string, MaintenanceWindows>>;
}

/** The rollout's schedule: its own startAt/windows, else the fleet's windows (null in the body: none). */
function scheduleOf(body: CreateRolloutBody, defaults: RolloutDefaults, fleet: string): RolloutSchedule | undefined {
  const given = body.schedule?.windows;
  const windows = given === null ? undefined : (given ?? defaults.windows[fleet]);
  const startAt = body.schedule?.startAt;
  if (windows === undefined && startAt === undefined) return undefined;
  return { ...(startAt === undefined ? {} : { startAt }), ...(windows === undefined ? {} : { windows }) };
}

/**
 * Creates a DRAFT rollout of a stored pin set (nothing is sent until `start`). Refused, in this order: unknown pin
 * set (404), expired set (422 E_EXPIRED), a plan/config the engine rejects (400 E_BAD_BODY with issues), a newer
 * seq already rolled out to the fleet (409 E_SEQ), another unfinished rollout of the same set (409 E_CONFLICT).
 */
export async function createRolloutFor(
  deps: { rollouts: RolloutRepo; pinsets: PinSetRepo; audit: AuditRepo; hub: BrowserEventStream; clock: Clock },
  body: CreateRolloutBody,
  defaults: RolloutDefaults,
  actor: string,
): Promise<RolloutRow> {
  const { rollouts, pinsets, audit, hub, clock } = deps;
  const pinset = await pinsets.get(body.pinsetId);
  if (pinset === undefined) throw DomainError.notFound(`pin set ${body.pinsetId}`);
  const now = clock.now();
  if (pinset.notAfter < Math.floor(now / 1000)) {
    throw new DomainError('E_EXPIRED', `pin set ${pinset.id} expired at ${new Date(pinset.notAfter * 1000).toISOString()}`);
  }
  const json = pinset.json as PinSetJson;
  const target = {
    ...(json.target.deviceClasses === undefined ? {} : { deviceClasses: json.target.deviceClasses }),
    ...(json.target.deviceIds === undefined ? {} : { deviceIds: json.target.deviceIds }),
  };
  const config = {
    gates: { soakMs: defaults.soakMs, ...body.gates, ...(body.manualApproval === undefined ? {} : { manualApproval: body.manualApproval }) },
    delivery: { ...defaults.delivery, ...body.delivery },
    rate: { perSecond: defaults.rate.perSecond, burst: defaults.rate.burst, ...body.rate },
  };
  const schedule = scheduleOf(body, defaults, pinset.fleet);
  if (schedule !== undefined) Object.assign(config, { schedule });
  const input = { fleet: pinset.fleet, seq: pinset.seq, target, config, now, ...(body.plan === undefined ? {} : { plan: body.plan }) };
  // validated first under a placeholder id: a refused body does not use up a rollout id (ids come from a counter)
  const checked = createRollout({ id: 'r0', ...input });
  if (!checked.ok) {
    const issues = checked.errors.map((message) => ({ path: 'body', message }));
    throw new DomainError('E_BAD_BODY', `invalid rollout: ${checked.errors.join('; ')}`, { issues });
  }
  // the body is valid: now the fleet's other rollouts
  const others = await rollouts.list({ fleet: pinset.fleet });
  const newer = newerSeqInTheWay(others, pinset.seq);
  if (newer !== undefined) {
    throw new DomainError('E_SEQ', `rollout ${newer.id} already delivers the newer seq ${newer.seq} to fleet "${pinset.fleet}"`);
  }
  const same = others.find((r) => r.pinsetId === pinset.id && ['DRAFT', 'RUNNING', 'PAUSED'].includes(r.state));
  if (same !== undefined) throw new DomainError('E_CONFLICT', `rollout ${same.id} of pin set ${pinset.id} is ${same.state}`);

  const created = createRollout({ id: await rollouts.nextId(), ...input }); // pure: valid as it was under 'r0'
  if (!created.ok) throw new Error(`rollout valid under a placeholder id is refused: ${created.errors.join('; ')}`);
  await rollouts.insert({ snapshot: created.rollout, pinsetId: pinset.id, warnings: created.warnings, createdBy: actor });
  await audit.append(actor, 'rollout.create', created.rollout.id, {
    pinsetId: pinset.id,
    fleet: pinset.fleet,
    seq: pinset.seq,
    waves: created.rollout.plan.waves.length,
    warnings: created.warnings,
  });
  hub.publish({ type: 'rollout', id: created.rollout.id, fleet: pinset.fleet, state: 'DRAFT', action: 'create' });
  const row = await rollouts.get(created.rollout.id);
  if (row === undefined) throw new Error('rollout vanished after insert');
  return row;
}
