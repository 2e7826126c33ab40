import { Counter, type Registry } from 'prom-client';
import type { EventBus } from '../events/event-bus';

/** The broker's admission figures (gateway/broker/device-admission.ts AdmissionStats), as read at scrape time. */
export interface AdmissionFigures {
  closedAtAccept: number;
  droppedGone: number;
  refusedBusy: number;
  checksRun: number;
  credentialsRehashed: number;
}

export interface SecurityMetricSources {
  /** null when devices use an external broker (it does its own admission). */
  admission: () => AdmissionFigures | null;
  /** The report limiter's counts (gateway/protocol/report-limiter.ts). */
  reports: () => { duplicate: number; overLimit: number };
}

/**
 * Issue 17 "count it where operators see it": the security counters on /metrics. Per-attempt facts come from the
 * EventBus (refused log-ins, session takeovers, flags); figures kept by the broker and the report limiter are read
 * at scrape time (no second copy to drift). Refused device publishes and malformed payloads are
 * pingw_device_messages_refused_total (gateway-metrics.ts); refused API requests are pingw_api_requests_refused_total.
 * Every label is a closed set.
 */
export class SecurityMetrics {
  private readonly authRefused: Counter<'reason'>;
  private readonly takeovers: Counter<'suspicious'>;
  private readonly flagged: Counter;
  private readonly apiRefused: Counter<'code' | 'status'>;
  private readonly dashboardRefused: Counter<'status'>;
  /** API refusals by code since start (GET /api/security shows them beside the device counters). */
  readonly apiRefusedByCode = new Map<string, number>();

  constructor(registry: Registry, sources: SecurityMetricSources) {
    const registers = [registry];
    this.authRefused = new Counter({
      name: 'pingw_device_auth_refused_total',
      help: 'Device log-ins refused: wrong_credential (a credential check ran) or throttled (refused by the back-off, no check)',
      labelNames: ['reason'],
      registers,
    });
    this.takeovers = new Counter({
      name: 'pingw_device_session_takeovers_total',
      help: 'Connections that took a live device session over ([MQTT-3.1.4-2]); suspicious="true": from another address while the older was alive (device flagged)',
      labelNames: ['suspicious'],
      registers,
    });
    this.flagged = new Counter({ name: 'pingw_devices_flagged_total', help: 'Devices flagged (credential on two connections, hello conflicts)', registers });
    this.apiRefused = new Counter({
      name: 'pingw_api_requests_refused_total',
      help: 'API requests refused with an error code (E_TOO_LARGE, E_BAD_BODY, E_BAD_JSON, E_UNAUTHORIZED, E_FORBIDDEN, …) and status',
      labelNames: ['code', 'status'],
      registers,
    });
    this.dashboardRefused = new Counter({
      name: 'pingw_dashboard_requests_refused_total',
      help: 'Dashboard requests refused: 413 (form over 64 KiB), 400 (form that does not parse, or values the API refused), 403 (CSRF, origin, role)',
      labelNames: ['status'],
      registers,
    });
    new Counter({
      name: 'pingw_device_admission_total',
      help: 'Device connections and credential checks by admission outcome: closed_at_accept (address in back-off), dropped_gone (client left before its check), refused_busy (check queue full, CONNACK 3), checked (a credential check ran)',
      labelNames: ['outcome'],
      registers,
      collect() {
        this.reset();
        const a = sources.admission();
        if (a === null) return;
        this.inc({ outcome: 'closed_at_accept' }, a.closedAtAccept);
        this.inc({ outcome: 'dropped_gone' }, a.droppedGone);
        this.inc({ outcome: 'refused_busy' }, a.refusedBusy);
        this.inc({ outcome: 'checked' }, a.checksRun);
      },
    });
    new Counter({
      name: 'pingw_device_credentials_rehashed_total',
      help: 'Stored device credential hashes (scrypt) re-hashed into the fast $7$ PBKDF2 form after a successful log-in, each written once',
      registers,
      collect() {
        this.reset();
        const a = sources.admission();
        if (a !== null) this.inc(a.credentialsRehashed);
      },
    });
    new Counter({
      name: 'pingw_reports_dropped_total',
      help: 'Pin validation reports acknowledged but not stored: duplicate (same report within 24 h) or over_limit (per-device cap)',
      labelNames: ['reason'],
      registers,
      collect() {
        this.reset();
        const r = sources.reports();
        this.inc({ reason: 'duplicate' }, r.duplicate);
        this.inc({ reason: 'over_limit' }, r.overLimit);
      },
    });
  }

  observe(events: EventBus): () => void {
    const offs = [
      events.on('authFailed', (e) => this.authRefused.inc({ reason: e.throttled ? 'throttled' : 'wrong_credential' })),
      events.on('takeover', (e) => this.takeovers.inc({ suspicious: String(e.suspicious) })),
      events.on('flagged', () => this.flagged.inc()),
    ];
    return () => offs.forEach((off) => off());
  }

  /** A dashboard request refused (400, 403, 413): the dashboard's onRefused. */
  refusedDashboard(status: number): void {
    this.dashboardRefused.inc({ status: String(status) });
  }

  /** An API request answered with an error code (called by the API's onError). */
  refusedRequest(code: string, status: number): void {
    this.apiRefused.inc({ code, status: String(status) });
    this.apiRefusedByCode.set(code, (this.apiRefusedByCode.get(code) ?? 0) + 1);
  }
}
