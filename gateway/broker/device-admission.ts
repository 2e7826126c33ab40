import type { AuthenticateError, Client } from 'aedes';
import type { Clock } from '../clock';
import type { Logger } from '../logger';
import { AuthGate, DEFAULT_GATE, type GateOptions } from './auth-gate';
import { DEFAULT_THROTTLE, LoginThrottle, type ThrottleOptions } from './login-throttle';
import type { TlsAdmissionStats } from './tls-admission';

/** MQTT 3.1.1 §3.2.2.3 CONNACK return codes. */
const SERVER_UNAVAILABLE = 3;
const BAD_USERNAME_OR_PASSWORD = 4;

export type AuthenticateHandler = (
  client: Client,
  username: Readonly<string | undefined>,
  password: Readonly<Buffer | undefined>,
  done: (error: AuthenticateError | null, success: boolean | null) => void,
) => void;

/** What operators see per device (GET /api/devices/:id `security`): in memory, since the last restart. */
export interface DeviceSecurityState {
  authFailures: number;
  throttled: number;
  lastFailureAt: number | null;
  lastFailureFrom: string | null;
  takeovers: number;
  lastTakeoverAt: number | null;
  lastTakeoverFrom: string | null;
}

export interface AdmissionStats {
  authFailures: number;
  throttled: number;
  droppedGone: number;
  refusedBusy: number;
  takeovers: number;
  /** Connections from a throttled address closed before any MQTT was read. */
  closedAtAccept: number;
  /** Credential checks run (each one hash of the stored form). */
  checksRun: number;
  /** Stored scrypt hashes re-hashed into the fast `$7$` form after a log-in (./credential-upgrade.ts). */
  credentialsRehashed: number;
  checksInFlight: number;
  checksQueued: number;
  /** The MQTT/TLS listener's admission (./tls-admission.ts); null without a TLS listener. */
  tls: TlsAdmissionStats | null;
}

/** A second live connection with a device's credential: the older one is closed (MQTT takeover). */
export interface TakeoverInfo {
  deviceId: string;
  from: string;
  previousFrom: string;
  at: number;
  /** Both connections were alive from different addresses: two holders of one credential. */
  suspicious: boolean;
}

export interface AdmissionDeps {
  clock: Clock;
  logger: Logger;
  /** Told of each failed or throttled CONNECT (events for the dashboard and the rollout-independent log). */
  onAuthFailure?: (deviceId: string, from: string, throttled: boolean, at: number) => void;
  onTakeover?: (info: TakeoverInfo) => void;
}

const remoteOf = (client: Client): string => {
  const conn = (client as unknown as { conn?: { remoteAddress?: string } }).conn;
  return conn?.remoteAddress ?? 'unknown';
};
const isGone = (client: Client): boolean => {
  const c = client as unknown as { closed?: boolean; conn?: { destroyed?: boolean } };
  return c.closed === true || c.conn?.destroyed === true;
};
const authError = (message: string, returnCode: number) => Object.assign(new Error(message), { returnCode }) as AuthenticateError;

/**
 * Everything between a CONNECT and its credential check (issue 17): the login throttle, the bounded check queue
 * that drops clients that are gone, the per-device counters operators see, and the detection of a credential used
 * from two connections at once. The WARN for failed log-ins is written at most once per device per window.
 */
export class DeviceAdmission {
  readonly throttle: LoginThrottle;
  readonly gate: AuthGate;
  private readonly perDevice = new Map<string, DeviceSecurityState>();
  private readonly lastWarned = new Map<string, number>();
  private totals = { authFailures: 0, throttled: 0, takeovers: 0, closedAtAccept: 0, credentialsRehashed: 0 };

  constructor(
    private readonly deps: AdmissionDeps,
    options: { throttle?: ThrottleOptions; gate?: GateOptions; warnWindowMs?: number } = {},
  ) {
    this.throttle = new LoginThrottle(options.throttle ?? DEFAULT_THROTTLE);
    this.gate = new AuthGate(options.gate ?? DEFAULT_GATE);
    this.warnWindowMs = options.warnWindowMs ?? 60_000;
  }

  private readonly warnWindowMs: number;

  /** Wraps the device authenticate handler; `connected` finds a device's live session (for takeovers). */
  wrap(inner: AuthenticateHandler, connected: (deviceId: string) => Client | undefined): AuthenticateHandler {
    return (client, username, password, done) => {
      const { clock } = this.deps;
      const from = remoteOf(client);
      const id = typeof username === 'string' ? username : '';
      if (id !== '') {
        const verdict = this.throttle.check(id, from, clock.now());
        if (!verdict.allowed) {
          this.count(id, from, true);
          // same answer as a wrong credential: a throttled guesser learns nothing, and spends no scrypt of ours
          return done(authError(`too many failed attempts; retry in ${Math.ceil(verdict.retryInMs / 1000)} s`, BAD_USERNAME_OR_PASSWORD), false);
        }
      }
      const admitted = this.gate.submit(
        () => isGone(client),
        () =>
          new Promise<void>((settled) => {
            inner(client, username, password, (err, ok) => {
              settled();
              const now = clock.now();
              if (err !== null && err.returnCode === BAD_USERNAME_OR_PASSWORD && id !== '') {
                this.throttle.failed(id, from, now);
                this.count(id, from, false);
              } else if (err === null && ok === true) {
                this.throttle.succeeded(id, from);
                this.noteTakeover(id, from, connected(id), now);
              }
              done(err, ok);
            });
          }),
        () => done(authError('client went away before its credential check', SERVER_UNAVAILABLE), false),
      );
      if (!admitted) done(authError('server busy: too many connections waiting for a credential check', SERVER_UNAVAILABLE), false);
    };
  }

  /** Called for each new connection: true = close it now (its address is in back-off, see LoginThrottle). */
  refuseConnection(address: string | undefined): boolean {
    if (address === undefined || !this.throttle.blockedAtAccept(address, this.deps.clock.now())) return false;
    this.totals.closedAtAccept += 1;
    return true;
  }

  /** A stored credential hash was re-hashed into the fast form (counted with the admission figures). */
  noteRehashed(): void {
    this.totals.credentialsRehashed += 1;
  }

  deviceState(deviceId: string): DeviceSecurityState | null {
    const s = this.perDevice.get(deviceId);
    return s === undefined ? null : { ...s };
  }

  /** The TLS listener reports its admission figures here (one listener; a second replaces the first). */
  attachTls(source: () => TlsAdmissionStats): void {
    this.tlsStats = source;
  }

  private tlsStats: (() => TlsAdmissionStats) | null = null;

  stats(): AdmissionStats {
    return {
      tls: this.tlsStats === null ? null : { ...this.tlsStats() },
      ...this.totals,
      droppedGone: this.gate.droppedGone,
      refusedBusy: this.gate.refusedBusy,
      checksRun: this.gate.checked,
      checksInFlight: this.gate.inFlight,
      checksQueued: this.gate.queued,
    };
  }

  private state(deviceId: string): DeviceSecurityState {
    let s = this.perDevice.get(deviceId);
    if (s === undefined) {
      s = { authFailures: 0, throttled: 0, lastFailureAt: null, lastFailureFrom: null, takeovers: 0, lastTakeoverAt: null, lastTakeoverFrom: null };
      if (this.perDevice.size >= 100_000) this.perDevice.delete(this.perDevice.keys().next().value as string);
      this.perDevice.set(deviceId, s);
    }
    return s;
  }

  private count(deviceId: string, from: string, throttled: boolean): void {
    const now = this.deps.clock.now();
    const s = this.state(deviceId);
    if (throttled) {
      s.throttled += 1;
      this.totals.throttled += 1;
    } else {
      s.authFailures += 1;
      this.totals.authFailures += 1;
    }
    s.lastFailureAt = now;
    s.lastFailureFrom = from;
    this.deps.onAuthFailure?.(deviceId, from, throttled, now);
    const last = this.lastWarned.get(deviceId);
    if (last === undefined || now - last >= this.warnWindowMs) {
      this.lastWarned.set(deviceId, now);
      if (this.lastWarned.size > 100_000) this.lastWarned.clear();
      this.deps.logger.warn('device authentication failed', { deviceId, from, failures: s.authFailures, throttled: s.throttled });
    }
  }

  private noteTakeover(deviceId: string, from: string, previous: Client | undefined, at: number): void {
    if (previous === undefined || isGone(previous)) return;
    const previousFrom = remoteOf(previous);
    const s = this.state(deviceId);
    s.takeovers += 1;
    s.lastTakeoverAt = at;
    s.lastTakeoverFrom = from;
    this.totals.takeovers += 1;
    this.deps.onTakeover?.({ deviceId, from, previousFrom, at, suspicious: previousFrom !== from });
  }
}
