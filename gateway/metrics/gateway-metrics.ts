import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { EventBus } from '../events/event-bus';

/** MQTT 3.1.1 §3.2.2.3 CONNACK return codes, as labels (a refused connect carries one). */
const CONNACK_REASONS: Record<number, string> = {
  1: 'unacceptable_protocol_version',
  2: 'identifier_rejected',
  3: 'server_unavailable',
  4: 'bad_credentials',
  5: 'not_authorized',
};

/** The label of a refused device connect, from the transport's refusal (CONNACK code, or our own message). */
export function refusedConnectReason(r: { returnCode: number | null; message: string }): string {
  if (/decommissioned/i.test(r.message)) return 'decommissioned';
  return r.returnCode === null ? 'protocol_error' : (CONNACK_REASONS[r.returnCode] ?? `connack_${r.returnCode}`);
}

/**
 * The gateway's Prometheus registry: counters fed by committed events (EventBus), the API latency histogram, the
 * process metrics of prom-client (event-loop lag included) and, at scrape time, the fleet gauges (fleet-gauges.ts).
 * Label values are bounded: codes and statuses are closed sets, routes are the declared route patterns.
 */
export class GatewayMetrics {
  readonly registry = new Registry();
  private readonly acksIngested: Counter<'status'>;
  private readonly reportsIngested: Counter<'result'>;
  private readonly messagesRefused: Counter<'kind' | 'code'>;
  private readonly connectsRefused: Counter<'reason'>;
  readonly apiLatency: Histogram<'method' | 'route' | 'status'>;

  constructor() {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry, eventLoopMonitoringPrecision: 20 });
    this.acksIngested = new Counter({
      name: 'pingw_acks_ingested_total',
      help: 'Device acks committed (SPEC §6), by status; repeats (QoS 1 redelivery) are not counted',
      labelNames: ['status'],
      registers,
    });
    this.reportsIngested = new Counter({
      name: 'pingw_reports_ingested_total',
      help: 'Pin validation reports committed (SPEC §6), by result',
      labelNames: ['result'],
      registers,
    });
    this.messagesRefused = new Counter({
      name: 'pingw_device_messages_refused_total',
      help: 'Malformed or refused device messages (hello, ack, report, publish), by topic kind and error code',
      labelNames: ['kind', 'code'],
      registers,
    });
    this.connectsRefused = new Counter({
      name: 'pingw_device_connects_refused_total',
      help: 'Device connections refused at the broker, by reason (CONNACK code or decommissioned)',
      labelNames: ['reason'],
      registers,
    });
    this.apiLatency = new Histogram({
      name: 'pingw_api_request_duration_seconds',
      help: 'HTTP API latency by method, route pattern and status',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    });
  }

  /** Counts committed facts; the listeners only increment counters, so they never slow ingestion down. */
  observe(events: EventBus): void {
    events.on('ack', (e) => this.acksIngested.inc({ status: e.ack.status }));
    events.on('report', (e) => this.reportsIngested.inc({ result: e.report.result }));
    events.on('malformed', (e) => this.messagesRefused.inc({ kind: e.kind, code: e.code }));
  }

  connectRefused(reason: string): void {
    this.connectsRefused.inc({ reason });
  }

  /** The text exposition format (Prometheus 0.0.4). */
  async scrape(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
