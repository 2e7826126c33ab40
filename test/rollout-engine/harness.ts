/** Test driver for the pure rollout engine: keeps rows in memory, moves a fake clock. No timers, no I/O. */
import {
  applyOperatorCommand,
  createRollout,
  onAck,
  onHello,
  step,
  type DeviceInfo,
  type ExecutionRecord,
  type GateCounts,
  type OperatorCommand,
  type RolloutCommand,
  type RolloutSnapshot,
  type StepResult,
  type TickResult,
} from '../../gateway/rollout-engine/index.js';

export const T0 = Date.UTC(2026, 0, 1);
export const MIN = 60_000;

export function device(id: string, over: Partial<DeviceInfo> = {}): DeviceInfo {
  return { deviceId: id, deviceClass: 'sensor', labels: [], online: true, ...over };
}

export function fleet(n: number, over: Partial<DeviceInfo> = {}, prefix = 'dev'): DeviceInfo[] {
  return Array.from({ length: n }, (_, i) => device(`${prefix}-${String(i).padStart(4, '0')}`, over));
}

export interface Sim {
  rollout: RolloutSnapshot;
  execs: Map<string, ExecutionRecord>;
  devices: DeviceInfo[];
  now: number;
  sent: RolloutCommand[];
  last: TickResult | null;
}

export function newSim(devices: DeviceInfo[], opts: { plan?: unknown; config?: unknown; target?: unknown; id?: string } = {}): Sim {
  const r = createRollout({
    id: opts.id ?? 'r1',
    fleet: 'f1',
    seq: 7,
    now: T0,
    ...(opts.plan === undefined ? {} : { plan: opts.plan }),
    ...(opts.config === undefined ? {} : { config: opts.config }),
    ...(opts.target === undefined ? {} : { target: opts.target }),
  });
  if (!r.ok) throw new Error(r.errors.join('; '));
  return { rollout: r.rollout, execs: new Map(), devices, now: T0, sent: [], last: null };
}

export function applyResult(sim: Sim, r: StepResult): void {
  sim.rollout = r.rollout;
  for (const e of r.executions) sim.execs.set(e.deviceId, e);
  sim.sent.push(...r.commands);
}

export function tick(sim: Sim, telemetry?: GateCounts['telemetry']): TickResult {
  const r = step(sim.rollout, {
    now: sim.now,
    executions: [...sim.execs.values()],
    devices: sim.devices,
    ...(telemetry === undefined ? {} : { telemetry }),
  });
  applyResult(sim, r);
  sim.last = r;
  return r;
}

export function command(sim: Sim, c: OperatorCommand): void {
  const r = applyOperatorCommand(sim.rollout, c, { now: sim.now, executions: [...sim.execs.values()], devices: sim.devices });
  if (!r.ok) throw new Error(r.error.message);
  applyResult(sim, r.result);
}

export function tryCommand(sim: Sim, c: OperatorCommand): boolean {
  const r = applyOperatorCommand(sim.rollout, c, { now: sim.now, executions: [...sim.execs.values()], devices: sim.devices });
  if (r.ok) applyResult(sim, r.result);
  return r.ok;
}

export function ack(sim: Sim, deviceId: string, status: 'applied' | 'verified' | 'rejected', code?: string): void {
  const e = sim.execs.get(deviceId);
  if (e === undefined) throw new Error(`no execution for ${deviceId}`);
  applyResult(sim, onAck(sim.rollout, e, { seq: sim.rollout.seq, status, ...(code === undefined ? {} : { code }) }, sim.now));
}

export function hello(sim: Sim, deviceId: string): StepResult {
  const d = sim.devices.find((x) => x.deviceId === deviceId);
  if (d === undefined) throw new Error(`unknown device ${deviceId}`);
  const r = onHello(sim.rollout, sim.execs.get(deviceId), d, sim.now);
  applyResult(sim, r);
  return r;
}

/** Devices of a wave, sorted. */
export function waveMembers(sim: Sim, wave: number): string[] {
  return [...sim.execs.values()].filter((e) => e.wave === wave).map((e) => e.deviceId).sort();
}

export function kindOf(sim: Sim, deviceId: string): string | undefined {
  return sim.execs.get(deviceId)?.state.kind;
}

/** Verify (applied + verified) every delivered device of the current state, optionally except some. */
export function verifyDelivered(sim: Sim, except: ReadonlySet<string> = new Set()): void {
  for (const e of [...sim.execs.values()]) {
    if (e.state.kind === 'DELIVERED' && !except.has(e.deviceId)) {
      ack(sim, e.deviceId, 'applied');
      ack(sim, e.deviceId, 'verified');
    }
  }
}

export function stateKind(sim: Sim): string {
  return sim.rollout.state.kind;
}
