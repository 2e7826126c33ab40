import { join } from 'node:path';
import { summaryLine } from '../fleet-runner';
import { DeviceGroup } from './device-group';
import { brokerPinSet, enrolDrillDevices, makeDrillKeys, pickOffline, type DrillKeys, type DrillOptions } from './drill-setup';
import { ownGatewayTarget, scaleTarget, type DrillTarget } from './drill-target';
import { checkExactlyOnce, exactlyOnceText, type ExactlyOnceResult } from './exactly-once';
import type { Readiness } from './gateway-api';
import { readinessText, watchRollout, type WatchResult } from './rollout-watch';
import { Timeline } from './timeline';
import { waitUntil } from '../wait-until';
import { driftDrill, finishGuidedRotation, planAction, runDrift, startGuidedRotation, type DriftDrillResult, type PlanView } from './lifecycle-steps';

export type ReadinessSummary = Omit<Readiness, 'devices' | 'nextCursor'>;

/** The numbers the drill establishes (also in drill.json); the end-to-end test asserts them. */
export interface DrillResult {
  devices: number;
  offlineIds: string[];
  pins: { k1: string; k2: string; backup: string };
  initialK1Coverage: number;
  readinessBeforeRollout: ReadinessSummary;
  rollout: { id: string; advanced: WatchResult['advanced']; executions: Record<string, number> };
  readinessAfterRollout: ReadinessSummary & { atRiskIds: string[] };
  rotation: { id: number; forced: boolean };
  k2: { sessionsKept: number; reconnected: number; refusedIds: string[]; gatewayOnline: number };
  backup: { connected: number; refused: number; stragglersApplied: number; stragglersVerified: number; mismatchReporters: string[] };
  final: ReadinessSummary & { pinCoverage: { pin: string; verified: number; total: number; percent: number }[] };
  /** Issue 16: the drift finding and its resolution; the guided rotation plan the rotation was walked with. */
  lifecycle: { drift: DriftDrillResult; plan: { id: number; steps: string[]; switchRecordedBy: string; predictionAtRisk: number | null } };
  /**
   * Against a scale set-up (`--target`): the devices' record of PUBACKed acks against the registry (exactly-once.ts),
   * and the replicas the drill moved away from because they stopped answering. Absent with a gateway of its own.
   */
  scale?: { exactlyOnce: ExactlyOnceResult; failovers: { from: string; to: string; why: string }[] };
  wallSeconds: number;
}

const strip = ({ devices: _d, nextCursor: _n, ...r }: Readiness): ReadinessSummary => r;
const sameIds = (a: readonly string[], b: readonly string[]) => a.length === b.length && [...a].sort().every((x, i) => x === [...b].sort()[i]);
const idsText = (ids: readonly string[]) => (ids.length <= 3 ? ids.join(', ') : `${ids[0]}, ${ids[1]}, … ${ids[ids.length - 1]}`);

/**
 * The end-to-end key-rotation drill (issue 6): a real gateway process, 1,000 simulated devices in worker processes,
 * everything else over HTTP (the API) and MQTT/TLS. Steps, each printed on the timeline:
 *  1. the broker serves K1; the factory set {K1, B} is published through the API and every device verifies it;
 *  2. 5 % of the devices go offline; the set {K1, K2, B} (seq 2) is rolled out in the default waves; waves held by
 *     offline devices are advanced by the operator; readiness of K2 is shown after every wave;
 *  3. readiness says READY at 95 % with exactly the offline devices at risk; the rotation is recorded;
 *  4. the broker switches to K2 (SIGHUP): established sessions stay, updated devices reconnect, the stragglers
 *     come back and refuse the broker — exactly the devices the gateway named;
 *  5. the broker switches to the backup key B: everyone connects, the stragglers get seq 2 on hello and verify.
 */
export class KeyRotationDrill {
  readonly timeline: Timeline;
  private target: DrillTarget | undefined;
  private readonly groups: DeviceGroup[] = [];
  private readonly failovers: { from: string; to: string; why: string }[] = [];

  constructor(readonly o: DrillOptions, timeline?: Timeline) {
    this.timeline = timeline ?? new Timeline();
  }

  /** The device groups' counts, for timeout messages. */
  private readonly explain = (): string =>
    this.groups.map((g) => {
      const t = g.totals();
      return `\n  ${g.o.name}: ${t === undefined ? 'off' : summaryLine(t)}`;
    }).join('');

  async run(): Promise<DrillResult> {
    const { o, timeline: tl } = this;
    const t0 = Date.now();
    const perDevice = (ms: number) => 60_000 + o.devices * ms;
    const keys: DrillKeys = await makeDrillKeys(o);
    const pins = { k1: keys.k1.pin, k2: keys.k2.pin, backup: keys.backup.pin };
    tl.add('keys', `openssl made broker keys K1 ${pins.k1.slice(0, 17)}…, K2 ${pins.k2.slice(0, 17)}…, backup B ${pins.backup.slice(0, 17)}…`, pins);

    const onSwitch = (from: string, to: string, why: string) => {
      this.failovers.push({ from, to, why });
      tl.add('api-failover', `replica ${from} does not answer (${why}): the drill goes on through ${to}`, { from, to, why });
    };
    const target = (this.target = o.targetFile === undefined ? await ownGatewayTarget(o, keys.k1) : await scaleTarget(o, o.targetFile, keys.k1, onSwitch));
    const { api, broker } = target;
    tl.add('gateway', target.startedText('K1'), target.startedData);

    // 1. factory state: every device holds {K1, B} for the broker, published through the gateway first
    const identities = await enrolDrillDevices(o, api.baseUrl, target.token);
    const factory = await api.createPinSet(brokerPinSet(o, [pins.k1, pins.backup], Math.floor(Date.now() / 1000), broker.port));
    const envelope = await api.envelopeOf(factory.id);
    const keyset = (await api.keysets()).at(-1);
    if (keyset === undefined) throw new Error('the gateway has no keyset');
    tl.add('factory-set', `enrolled ${identities.length} devices; factory pin set seq ${factory.seq} {K1, B} for ${o.brokerHost} published (enforced; live check: ${factory.liveCheck.map((l) => l.status).join(', ') || 'none'})`, { seq: factory.seq, enrolled: identities.length });
    const offlineIds = pickOffline(identities.map((d) => d.deviceId), o.offlinePercent);
    const offline = new Set(offlineIds);
    const group = (name: string, ids: typeof identities, workers: number) => {
      const g = new DeviceGroup({
        name, identities: ids, workers, broker: { hostname: o.brokerHost, address: broker.address, port: broker.port },
        keyset: { version: keyset.version, publicKeys: keyset.publicKeys }, factoryEnvelope: envelope,
        dataDir: join(o.dataDir, 'devices'), connectRate: Math.max(50, o.connectRate * (ids.length / identities.length)),
        reconnectMinMs: 500, reconnectMaxMs: 4_000,
      });
      this.groups.push(g);
      return g;
    };
    const updated = group('updated', identities.filter((d) => !offline.has(d.deviceId)), o.workers);
    const stragglers = group('stragglers', identities.filter((d) => offline.has(d.deviceId)), 1);
    await Promise.all([updated.powerOn(), stragglers.powerOn()]);
    const k1Row = await waitUntil(`${o.devices} devices to verify the factory set`, async () => {
      const row = (await api.coverage(o.fleet)).find((r) => r.host === o.brokerHost && r.pin === pins.k1);
      return row !== undefined && row.verified === o.devices && updated.online() + stragglers.online() === o.devices ? row : undefined;
    }, perDevice(120), 200, this.explain);
    tl.add('factory-verified', `${o.devices} devices online, factory set verified: coverage K1 ${k1Row.percent}% (${k1Row.verified}/${k1Row.total})`, { ...k1Row });
    const drift = await driftDrill({ api, serve: (k) => target.serve(k), tl, fleet: o.fleet, rogue: keys.rogue, good: keys.k1 });

    // 2. stragglers go offline; the firmware team publishes {K1, K2, B}; staged rollout
    await stragglers.powerOff();
    await waitUntil('the gateway to see the stragglers offline', async () => (await api.fleetOnline(o.fleet)).online === o.devices - offlineIds.length, 30_000);
    tl.add('offline', `${offlineIds.length} devices (${o.offlinePercent}%) go offline: ${idsText(offlineIds)}`, { offline: offlineIds.length });
    const readiness = () => api.readiness(o.fleet, o.brokerHost, pins.k2, o.target);
    const before = await readiness();
    tl.add('readiness', readinessText('K2', before), strip(before));
    // the rotation is walked as a guided rotation plan: publish {K1, K2, B} → staged rollout → gate → switch → …
    const guided = await startGuidedRotation({
      api, tl, fleet: o.fleet, host: o.brokerHost, port: broker.port, keys, target: o.target,
      rollout: { gates: { soakMs: o.soakMs }, rate: { perSecond: 200, burst: 200 } },
    });
    const planId = guided.plan.id;
    const next = { seq: (await api.call<{ seq: number }>('GET', `/api/pinsets/${guided.plan.stage1PinsetId}`)).seq };
    const created = guided.rollout;
    tl.add('new-set', `pin set seq ${next.seq} {K1, K2, B} published through the plan`, { seq: next.seq });
    tl.add('rollout-created', `rollout ${created.id} started by the plan: default plan ${created.waves.map((w) => w.name).join(' → ')}, soak ${o.soakMs / 1000} s`, { id: created.id, waves: created.waves.length });
    const watched = await watchRollout({ api, timeline: tl, rolloutId: created.id, readiness, readinessLabel: 'K2', timeoutMs: perDevice(300) });

    // 3. the gate: ready at the target, the offline devices named
    const after = await waitUntil('every online device to count as verified for K2', async () => {
      const r = await readiness();
      return r.verified === o.devices - offlineIds.length ? r : undefined;
    }, 30_000);
    const atRiskIds = after.devices.map((d) => d.deviceId);
    tl.add('readiness', readinessText('K2', after), strip(after));
    tl.add('at-risk', `at-risk list: ${atRiskIds.length} devices, ${sameIds(atRiskIds, offlineIds) ? 'exactly the' : 'NOT the'} ${offlineIds.length} offline devices (${idsText(atRiskIds)})`, { atRiskIds });
    const gated = await planAction(api, planId, 'confirm-gate');
    tl.add('plan-step', `plan #${planId} confirm-gate: coverage of K2 ${gated.gate.coverage}% ≥ ${o.target}%, ${gated.gate.atRisk} at risk: ${gated.step}`, { step: gated.step });

    // 4. the broker switches to K2 without a restart
    const k2 = await this.switchKey(keys.k2, 'K2');
    // drift watch sees the next key served: the plan records the switch by itself (POST /api/rotations' record)
    await runDrift(api);
    const switched = await waitUntil('the plan to record the switch', async () => {
      const p = await api.call<PlanView>('GET', `/api/rotation-plans/${planId}`);
      return p.step === 'switched' ? p : undefined;
    }, 30_000);
    const recorded = switched.history.at(-1);
    const rotation = { id: Number(recorded?.detail?.['rotationId'] ?? -1), forced: recorded?.detail?.['forced'] === true };
    tl.add('rotation', `drift watch saw K2 served: plan #${planId} recorded the switch (rotation #${rotation.id}, forced: ${rotation.forced}, by ${recorded?.actor ?? '?'})`, { id: rotation.id, forced: rotation.forced });
    const sessionsKept = updated.online();
    tl.add('sessions-kept', `established sessions kept through the switch: ${sessionsKept}/${updated.size}`, { sessionsKept });
    await updated.powerOff();
    await Promise.all([updated.powerOn(), stragglers.powerOn()]);
    const refusedIds = await waitUntil('updated devices to reconnect and stragglers to refuse K2', () => {
      const refused = stragglers.totals()?.refusedIds ?? [];
      return updated.online() === updated.size && refused.length === stragglers.size ? [...refused] : undefined;
    }, perDevice(60), 200, this.explain);
    const gwOnline = (await api.fleetOnline(o.fleet)).online;
    tl.add('k2-served', `broker serves K2: ${updated.online()} reconnected, ${refusedIds.length} refused (pin mismatch, refused by the device); ${sameIds(refusedIds, atRiskIds) ? `all ${refusedIds.length} named at risk` : 'NOT the devices named at risk'}; gateway sees ${gwOnline} online`, { reconnected: updated.online(), refused: refusedIds.length, gatewayOnline: gwOnline, k2 });

    // 5. the backup key rescues the stragglers
    await this.switchKey(keys.backup, 'backup B');
    await updated.powerOff();
    await updated.powerOn();
    const final = await waitUntil('every device to connect under B and the stragglers to verify seq 2', async () => {
      if (updated.online() !== updated.size || stragglers.online() !== stragglers.size) return undefined;
      // the devices' own count too: the registry may commit a verified ack before the worker's next progress report
      if ((stragglers.totals()?.counters.verified ?? 0) < stragglers.size) return undefined;
      const r = await readiness();
      return r.verified === o.devices ? r : undefined;
    }, perDevice(120), 200, this.explain);
    const st = stragglers.totals();
    const connected = updated.online() + stragglers.online();
    const refusedNow = (updated.totals()?.refusedIds.length ?? 0) + (st?.refusedIds.length ?? 0);
    tl.add('backup-served', `broker serves B: ${connected}/${o.devices} connected (${updated.online()} with {K1,K2,B}, ${stragglers.online()} stragglers with {K1,B}), ${refusedNow} refused`, { connected, refused: refusedNow });
    tl.add('stragglers-updated', `stragglers got seq ${next.seq} on hello: ${st?.counters.applied ?? 0} applied, ${st?.counters.verified ?? 0} verified`, { applied: st?.counters.applied, verified: st?.counters.verified });
    const mismatchReporters = [...new Set((await api.reports(o.fleet, o.brokerHost))
      .filter((r) => r.result === 'mismatch' && r.servedPins.includes(pins.k2)).map((r) => r.deviceId))].sort();
    tl.add('reports', `gateway received "mismatch" reports (served K2) from ${mismatchReporters.length} devices${sameIds(mismatchReporters, atRiskIds) ? ', exactly the at-risk list' : ''}`, { mismatchReporters: mismatchReporters.length });
    const coverage = (await api.coverage(o.fleet)).filter((r) => r.host === o.brokerHost).map(({ pin, verified, total, percent }) => ({ pin, verified, total, percent }));
    const name = (pin: string) => (pin === pins.k1 ? 'K1' : pin === pins.k2 ? 'K2' : pin === pins.backup ? 'B' : pin);
    tl.add('final', `final: ${readinessText('K2', final)}; coverage ${coverage.map((c) => `${name(c.pin)} ${c.percent}%`).join(', ')}`, { ...strip(final), pinCoverage: coverage });
    const r = await api.rollout(created.id);
    // 6. the plan's last stage: {K2, B, K3} (the next rotation's key pinned from now on), then done
    const done = await finishGuidedRotation({ api, tl, planId, newNext: keys.k3, timeoutMs: perDevice(300) });
    tl.add('rollout-final', `rollout ${r.id} ${r.state.kind}: ${r.executions.byKind.VERIFIED}/${r.executions.total} verified`, { ...r.executions.byKind });
    const scale = target.kind === 'scale' ? { exactlyOnce: await this.exactlyOnce(api, identities.map((d) => d.deviceId)), failovers: this.failovers } : undefined;

    return {
      devices: o.devices, offlineIds, pins, initialK1Coverage: k1Row.percent,
      readinessBeforeRollout: strip(before),
      rollout: { id: created.id, advanced: watched.advanced, executions: { ...r.executions.byKind } },
      readinessAfterRollout: { ...strip(after), atRiskIds },
      rotation: { id: rotation.id, forced: rotation.forced },
      k2: { sessionsKept, reconnected: updated.size, refusedIds, gatewayOnline: gwOnline },
      backup: {
        connected, refused: refusedNow, stragglersApplied: st?.counters.applied ?? 0, stragglersVerified: st?.counters.verified ?? 0,
        mismatchReporters,
      },
      final: { ...strip(final), pinCoverage: coverage },
      lifecycle: {
        drift,
        plan: { id: planId, steps: done.history.map((h) => h.action), switchRecordedBy: recorded?.actor ?? '', predictionAtRisk: guided.plan.prediction?.atRisk ?? null },
      },
      ...(scale === undefined ? {} : { scale }),
      wallSeconds: Math.round((Date.now() - t0) / 100) / 10,
    };
  }

  /** Replaces the served cert/key files, SIGHUPs the broker (the gateway, or Mosquitto) and waits until a new handshake gets the key. */
  private async switchKey(key: DrillKeys['k1'], label: string): Promise<string> {
    const target = this.target as DrillTarget;
    await target.serve(key);
    this.timeline.add('key-switch', `broker switches to ${label}: cert/key files replaced, ${target.reloadText}; new handshakes get ${key.pin.slice(0, 17)}…`, { key: label, pin: key.pin });
    return key.pin;
  }

  /**
   * Every ack a device got a PUBACK for is in the registry exactly once (exactly-once.ts). Acks that waited in a
   * killed replica's broker sessions arrive once a survivor took its client ids over (docs/scale.md, ≤ lease +
   * lease/4): polled until none is missing or the deadline; a failure ends the drill with an error.
   */
  private async exactlyOnce(api: DrillTarget['api'], deviceIds: string[]): Promise<ExactlyOnceResult> {
    // the devices are powered off first: a worker sends its record of PUBACKs with its progress (every 250 ms) and
    // a last time when it stops, so a check read while they run misses the newest PUBACKs (seen: the last rollout's
    // 74 "verified" listed as in the registry with no PUBACK recorded). The drill's steps are over by now.
    await Promise.all(this.groups.map((g) => g.powerOff()));
    const pubacked = new Map<string, number>();
    for (const g of this.groups) for (const [k, n] of g.acked()) pubacked.set(k, (pubacked.get(k) ?? 0) + n);
    const check = () => checkExactlyOnce({ api, fleet: this.o.fleet, deviceIds, pubacked });
    const result = await waitUntil('every PUBACKed ack in the registry', async () => {
      const r = await check();
      return r.lost.length === 0 ? r : undefined;
    }, 60_000, 1_000).catch(async () => check());
    this.timeline.add('exactly-once', exactlyOnceText(result), { ...result });
    if (!result.ok) throw new Error(exactlyOnceText(result));
    return result;
  }

  /** Powers every device group off; stops the drill's own gateway (SIGTERM, then SIGKILL by pid) or puts a scale set-up's broker key back. Idempotent. */
  async cleanup(): Promise<void> {
    await Promise.allSettled(this.groups.map((g) => g.powerOff()));
    await this.target?.close();
  }

  /** Errors the worker processes reported. */
  workerErrors(): string[] {
    return this.groups.flatMap((g) => g.errors);
  }
}

export type { DrillOptions } from './drill-setup';
