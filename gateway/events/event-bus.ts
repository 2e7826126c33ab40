import { EventEmitter } from 'node:events';
import type { Ack, Hello, Report } from '../../shared/index';
import type { Logger } from '../logger';
import type { FindingEvent, KillSwitchEvent } from './lifecycle-events';

export interface HelloEvent {
  deviceId: string;
  hello: Hello;
  /** Pin set published to the device in answer to this hello, if any. */
  deliveredPinSetId: number | null;
  at: number;
}
export interface AckEvent {
  deviceId: string;
  ack: Ack;
  /** The pin set the ack is about, when the gateway issued it. */
  pinsetId: number | null;
  at: number;
}
export interface ReportEvent {
  deviceId: string;
  report: Report;
  at: number;
}
export interface DeliveredEvent {
  deviceId: string;
  pinsetId: number;
  seq: number;
  /** False when the device is offline: it gets the set on its next hello. */
  published: boolean;
  at: number;
}
export interface FlaggedEvent {
  deviceId: string;
  reason: string;
  at: number;
}
export interface MalformedEvent {
  deviceId: string;
  kind: string;
  code: string;
  detail: string;
  at: number;
}
export interface ConnectionEvent {
  deviceId: string;
  at: number;
}
export interface EnrolledEvent {
  deviceId: string;
  fleet: string;
  deviceClass: string;
  labels: string[];
  at: number;
}

/** A refused device log-in (wrong credential, or throttled before any check): issue 17. */
export interface AuthFailedEvent {
  deviceId: string;
  from: string;
  throttled: boolean;
  at: number;
}
/** A second connection with a device's credential took its session over ([MQTT-3.1.4-2]). */
export interface TakeoverEvent {
  deviceId: string;
  from: string;
  previousFrom: string;
  suspicious: boolean;
  at: number;
}

/** A device left the fleet (decommissioned) or came back (recommissioned); committed, audited. */
export interface DecommissionEvent {
  deviceId: string;
  fleet: string;
  deviceClass: string;
  labels: string[];
  reason: string;
  actor: string;
  at: number;
}

/** A rollout changed state (committed; also audit-logged as rollout.state). */
export interface RolloutStateEvent {
  rolloutId: string;
  fleet: string;
  seq: number;
  from: string;
  to: string;
  /** The engine event that caused it (start, pause, errorGateTripped, telemetryGateTripped, allWavesDone…). */
  event: string;
  /** Wave, pause or abort reason. */
  detail: Record<string, unknown>;
  actor: string;
  at: number;
}

export interface EventBusMap {
  hello: HelloEvent;
  ack: AckEvent;
  /**
   * An ack already stored (same device, envelope and status): a QoS 1 redelivery, or the device's same verdict
   * on a redelivered envelope (e.g. after retry-failed). Not counted again anywhere; rollouts apply it idempotently.
   */
  ackRepeated: AckEvent;
  report: ReportEvent;
  delivered: DeliveredEvent;
  flagged: FlaggedEvent;
  malformed: MalformedEvent;
  online: ConnectionEvent;
  offline: ConnectionEvent;
  /** A device was enrolled (POST /api/devices): rollouts of its fleet may enrol it (SPEC §7 late joiners). */
  enrolled: EnrolledEvent;
  /** A kill switch was engaged: a set that stops enforcing a host is on its way to every device (issue 16). */
  killSwitch: KillSwitchEvent;
  /** A drift or CT watch raised a finding (issue 16); `findingCleared` when a later run no longer sees it. */
  finding: FindingEvent;
  findingCleared: FindingEvent;
  authFailed: AuthFailedEvent;
  takeover: TakeoverEvent;
  decommissioned: DecommissionEvent;
  rolloutState: RolloutStateEvent;
  recommissioned: DecommissionEvent;
}

/**
 * `gateway.events`: what the rollout engine and the dashboard subscribe to. Events are emitted after the state
 * they describe is committed; acks and reports only when new (a QoS 1 redelivery emits nothing).
 * A listener that throws is logged and cannot break the broker.
 */
export class EventBus {
  private readonly emitter = new EventEmitter();
  /** Listeners of events raised on every replica (fleetWide), and the relay that sends local ones to the others. */
  private readonly fleetWide = new EventEmitter();
  private relay: (<K extends keyof EventBusMap>(event: K, payload: EventBusMap[K]) => void) | null = null;

  constructor(private readonly logger: Logger) {
    this.emitter.setMaxListeners(100);
    this.fleetWide.setMaxListeners(100);
  }

  /** Subscribes to events raised in this process; returns the function that unsubscribes. */
  on<K extends keyof EventBusMap>(event: K, listener: (e: EventBusMap[K]) => void): () => void {
    this.emitter.on(event, listener);
    return () => this.emitter.off(event, listener);
  }

  /**
   * Subscribes to an event raised on any replica (docs/scale.md "Replicas"): this process's own, and those the
   * replica fan-out (replica-fanout.ts) brings from the others. The leader's rollout driver listens so; counters
   * (metrics) and webhooks keep `on`, so that each fact is counted and sent once, where it happened.
   */
  onFleetWide<K extends keyof EventBusMap>(event: K, listener: (e: EventBusMap[K]) => void): () => void {
    this.fleetWide.on(event, listener);
    return () => this.fleetWide.off(event, listener);
  }

  /** Sets the relay that every locally raised event is handed to (null: one process, nothing to relay). */
  relayTo(relay: (<K extends keyof EventBusMap>(event: K, payload: EventBusMap[K]) => void) | null): void {
    this.relay = relay;
  }

  emit<K extends keyof EventBusMap>(event: K, payload: EventBusMap[K]): void {
    this.call(this.emitter, event, payload);
    this.call(this.fleetWide, event, payload);
    if (this.relay !== null) {
      try {
        this.relay(event, payload);
      } catch (err) {
        this.logger.error('gateway event relay failed', { event, error: String(err) });
      }
    }
  }

  /** An event another replica raised: only fleet-wide listeners hear it, and it is not relayed again. */
  emitRemote<K extends keyof EventBusMap>(event: K, payload: EventBusMap[K]): void {
    this.call(this.fleetWide, event, payload);
  }

  private call<K extends keyof EventBusMap>(emitter: EventEmitter, event: K, payload: EventBusMap[K]): void {
    for (const listener of emitter.listeners(event)) {
      try {
        (listener as (e: EventBusMap[K]) => void)(payload);
      } catch (err) {
        this.logger.error('gateway event listener failed', { event, error: String(err) });
      }
    }
  }
}
