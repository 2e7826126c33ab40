import type { PinSetJson } from '../../shared/index';
import type { Clock } from '../clock';
import type { DriftRun, DriftWatch } from '../drift-watch/drift-watch';
import { DomainError } from '../errors/domain-error';
import type { BrowserEventStream } from '../events/browser-event-stream';
import type { Logger } from '../logger';
import type { PinSetPublisher } from '../pinsets/pinset-publisher';
import type { AuditRepo, CoverageRepo, DeviceRepo, PinSetRepo, RolloutRepo, RotationPlanRepo, RotationRepo } from '../registry/repositories';
import type { PinSetViews } from '../registry/pinset-views';
import type { RolloutDriver } from '../rollout-driver/rollout-driver';
import { createRolloutFor, type CreateRolloutBody, type RolloutDefaults } from '../rollout-driver/rollout-factory';
import { rotationReadiness, type RotationReadiness } from '../rotation-gate/rotation-readiness';
import { pinFromKeyInput } from './key-input';
import type { RotationPlanRow } from '../registry/lifecycle-rows';
import { expectedAction, nextStep, type PlanAction } from './plan-steps';

export interface GuidedRotationDeps {
  plans: RotationPlanRepo;
  devices: DeviceRepo;
  coverage: CoverageRepo;
  views: PinSetViews;
  pinsets: PinSetRepo;
  publisher: PinSetPublisher;
  rollouts: RolloutRepo;
  driver: RolloutDriver;
  rotations: RotationRepo;
  audit: AuditRepo;
  hub: BrowserEventStream;
  clock: Clock;
  logger: Logger;
  rolloutDefaults: RolloutDefaults;
}

export interface PlanInput {
  fleet: string;
  host: string;
  port?: number | undefined;
  /** Each a pin, a PEM public key, a CSR or a certificate (key-input.ts). */
  current: string;
  next: string;
  backup: string;
  target?: number | undefined;
  switchAt?: number | undefined;
}

export interface ActionInput {
  reason?: string | undefined;
  /** publish-next: the key that becomes the next "next" (pin, PEM key, CSR or certificate). */
  newNext?: string | undefined;
  /** roll-out / publish-next: the staged rollout's plan and gates (POST /api/rollouts shapes); default plan otherwise. */
  rollout?: Pick<CreateRolloutBody, 'plan' | 'gates' | 'manualApproval' | 'rate'> | undefined;
  /** record-switch / complete against the gate, with a reason (audited), as POST /api/rotations allows. */
  force?: boolean | undefined;
  /** Moves the planned switch time (unix seconds): the prediction follows it. */
  switchAt?: number | undefined;
}

export type PlanView = RotationPlanRow & {
  expectedAction: PlanAction | null;
  gate: Summary;
  prediction: (Summary & { at: number; devices: RotationReadiness['devices']; nextCursor: string | null }) | null;
  rollouts: { stage1: string | null; stage2: string | null };
};

type Summary = Pick<RotationReadiness, 'ready' | 'coverage' | 'verified' | 'total' | 'target' | 'atRisk' | 'atRiskBy' | 'atRiskOffline'>;
const summary = (r: RotationReadiness): Summary => ({
  ready: r.ready, coverage: r.coverage, verified: r.verified, total: r.total, target: r.target, atRisk: r.atRisk, atRiskBy: r.atRiskBy, atRiskOffline: r.atRiskOffline,
});

function keyOrThrow(what: string, input: string): string {
  const p = pinFromKeyInput(input);
  if (!p.ok) throw new DomainError('E_BAD_BODY', `${what}: ${p.error}`);
  return p.value;
}

/**
 * Guided rotation (issue 16 §4, docs/runbook-planned-rotation.md): a plan for one host of one fleet that the
 * gateway walks with the operator, each step gated (plan-steps.ts, the rotation gate) and audited.
 */
export class GuidedRotation {
  constructor(private readonly deps: GuidedRotationDeps) {}

  /** Drift watch saw the next key served: a plan that was safe to switch records the switch by itself. */
  attach(drift: DriftWatch): void {
    drift.onRun((run) => void this.detectSwitch(run).catch((err) => this.deps.logger.error('guided rotation: switch detection failed', { error: String(err) })));
  }

  async create(input: PlanInput, actor: string): Promise<PlanView> {
    const { plans, audit, clock } = this.deps;
    const pins = { current: keyOrThrow('current', input.current), next: keyOrThrow('next', input.next), backup: keyOrThrow('backup', input.backup) };
    if (new Set(Object.values(pins)).size !== 3) throw new DomainError('E_BAD_BODY', 'current, next and backup must be three different keys (SPEC §2 rule of two: the backup is a key of its own)');
    const host = input.host.toLowerCase();
    const open = (await plans.list({ fleet: input.fleet, host })).find((p) => p.step !== 'done' && p.step !== 'cancelled');
    if (open !== undefined) throw new DomainError('E_CONFLICT', `rotation plan ${open.id} for ${host} in fleet "${input.fleet}" is not finished (${open.step})`);
    const row = await plans.insert({
      fleet: input.fleet, host, port: input.port ?? null, currentPin: pins.current, nextPin: pins.next, backupPin: pins.backup,
      target: input.target ?? 95, switchAt: input.switchAt ?? null, createdAt: clock.now(), createdBy: actor,
    });
    await audit.append(actor, 'rotationplan.create', `${row.fleet}/${row.host}`, { id: row.id, ...pins, target: row.target, switchAt: row.switchAt });
    return this.view(row.id);
  }

  async list(filter: { fleet?: string; host?: string }): Promise<PlanView[]> {
    return Promise.all((await this.deps.plans.list(filter)).map((p) => this.view(p.id)));
  }

  async view(id: number): Promise<PlanView> {
    const { plans, rollouts, clock } = this.deps;
    const p = await plans.get(id);
    if (p === undefined) throw DomainError.notFound(`rotation plan ${id}`);
    const gate = summary(await this.readiness(p, clock.now(), 0));
    let prediction: PlanView['prediction'] = null;
    if (p.switchAt !== null) {
      const r = await this.readiness(p, p.switchAt * 1000, 100);
      prediction = { at: p.switchAt, ...summary(r), devices: r.devices, nextCursor: r.nextCursor };
    }
    const state = async (rid: string | null) => (rid === null ? null : ((await rollouts.get(rid))?.state ?? null));
    return {
      ...p,
      expectedAction: expectedAction(p.step),
      gate,
      prediction,
      rollouts: { stage1: await state(p.stage1RolloutId), stage2: await state(p.stage2RolloutId) },
    };
  }

  async act(id: number, action: PlanAction, input: ActionInput, actor: string): Promise<PlanView> {
    const { plans, audit, hub, clock } = this.deps;
    const p = await plans.get(id);
    if (p === undefined) throw DomainError.notFound(`rotation plan ${id}`);
    const move = nextStep(p.step, action);
    const subject = `${p.fleet}/${p.host}`;
    if (!move.ok) throw new DomainError('E_PLAN_STEP', move.error, { step: p.step, expectedAction: expectedAction(p.step) });
    const reason = input.reason?.trim() === '' ? undefined : input.reason?.trim();
    let changes: Parameters<RotationPlanRepo['update']>[1] = input.switchAt === undefined ? {} : { switchAt: input.switchAt };
    const detail: Record<string, unknown> = reason === undefined ? {} : { reason };
    switch (action) {
      case 'publish': {
        const set = await this.publishHost(p, [p.currentPin, p.nextPin, p.backupPin], actor);
        changes = { ...changes, stage1PinsetId: set.id };
        Object.assign(detail, { pinsetId: set.id, seq: set.seq });
        break;
      }
      case 'roll-out': {
        const rid = await this.startRollout(p.stage1PinsetId, input, actor);
        changes = { ...changes, stage1RolloutId: rid };
        detail['rolloutId'] = rid;
        break;
      }
      case 'confirm-gate':
      case 'record-switch': {
        const r = summary(await this.readiness(p, clock.now(), 0));
        Object.assign(detail, { readiness: r });
        const forced = !r.ready && action === 'record-switch' && input.force === true && reason !== undefined;
        if (!r.ready && !forced) {
          await audit.append(actor, `rotationplan.${action}.refused`, subject, { id, ...detail });
          throw new DomainError('E_GATE_NOT_MET', `coverage of the next key ${p.nextPin} for ${p.host} is ${r.coverage} %, below the target ${p.target} % (${r.atRisk} devices at risk)`, { readiness: r });
        }
        if (action === 'record-switch') {
          const row = await this.deps.rotations.insert({
            fleet: p.fleet, host: p.host, pin: p.nextPin, forced, reason: reason ?? null, coverage: Math.round(r.coverage * 100),
            target: Math.round(p.target * 100), atRisk: r.atRisk, recordedAt: clock.now(), recordedBy: actor,
          });
          Object.assign(detail, { rotationId: row.id, forced });
        }
        break;
      }
      case 'publish-next': {
        if (input.newNext === undefined) throw new DomainError('E_BAD_BODY', 'publish-next needs newNext: the key that will be the next "next"');
        const newNext = keyOrThrow('newNext', input.newNext);
        if ([p.nextPin, p.backupPin, p.currentPin].includes(newNext)) throw new DomainError('E_BAD_BODY', 'newNext must be a key not used by this plan yet');
        const set = await this.publishHost(p, [p.nextPin, p.backupPin, newNext], actor);
        const rid = await this.startRollout(set.id, input, actor);
        changes = { ...changes, newNextPin: newNext, stage2PinsetId: set.id, stage2RolloutId: rid };
        Object.assign(detail, { newNext, pinsetId: set.id, seq: set.seq, rolloutId: rid });
        break;
      }
      case 'complete': {
        const state = p.stage2RolloutId === null ? null : (await this.deps.rollouts.get(p.stage2RolloutId))?.state;
        if (state !== 'COMPLETED' && !(input.force === true && reason !== undefined)) {
          throw new DomainError('E_PLAN_STEP', `the rollout of {next, backup, new next} is ${state ?? 'missing'}, not COMPLETED; force with a reason to close the plan anyway`);
        }
        detail['rollout'] = state;
        break;
      }
      case 'cancel':
        break;
    }
    await plans.update(id, changes, move.to, { at: clock.now(), actor, action, from: p.step, to: move.to, detail });
    await audit.append(actor, `rotationplan.${action}`, subject, { id, from: p.step, to: move.to, ...detail });
    hub.publish({ type: 'rotation-plan', id, fleet: p.fleet, host: p.host, step: move.to });
    return this.view(id);
  }

  private async detectSwitch(run: DriftRun): Promise<void> {
    for (const p of await this.deps.plans.list()) {
      if (p.step !== 'safe-to-switch') continue;
      const seen = run.probes.find((x) => x.host === p.host && (p.port === null || x.port === p.port) && x.servedPin === p.nextPin);
      if (seen === undefined) continue;
      try {
        await this.act(p.id, 'record-switch', { reason: `drift watch saw ${p.host}:${seen.port} serve the next key` }, 'drift-watch');
      } catch (err) {
        this.deps.logger.warn('guided rotation: switch seen but not recorded', { plan: p.id, error: String(err) });
      }
    }
  }

  private async readiness(p: RotationPlanRow, now: number, limit: number): Promise<RotationReadiness> {
    return await rotationReadiness(this.deps, { fleet: p.fleet, host: p.host, pin: p.nextPin, target: p.target, limit, now });
  }

  /** The fleet's newest set with this host's pins replaced (enforced), other hosts unchanged. */
  private async publishHost(p: RotationPlanRow, pins: string[], actor: string) {
    const base = (await this.deps.pinsets.list(p.fleet))[0];
    const json = base?.json as PinSetJson | undefined;
    const others = (json?.hosts ?? []).filter((h) => h.name.toLowerCase() !== p.host);
    const own = json?.hosts.find((h) => h.name.toLowerCase() === p.host);
    const port = p.port ?? own?.port;
    const entry = { name: p.host, includeSubdomains: own?.includeSubdomains ?? false, pins, enforce: true, ...(port === undefined ? {} : { port }) };
    return this.deps.publisher.createFromJson(
      { target: { fleet: p.fleet }, hosts: [...others, entry], ...(json?.failOpenAfter === undefined ? {} : { failOpenAfter: json.failOpenAfter }) },
      actor,
    );
  }

  private async startRollout(pinsetId: number | null, input: ActionInput, actor: string): Promise<string> {
    if (pinsetId === null) throw new DomainError('E_PLAN_STEP', 'no pin set published for this step');
    const body: CreateRolloutBody = { pinsetId, ...(input.rollout ?? {}) };
    const row = await createRolloutFor(this.deps, body, this.deps.rolloutDefaults, actor);
    await this.deps.driver.command(row.id, { type: 'start' }, actor);
    return row.id;
  }
}
