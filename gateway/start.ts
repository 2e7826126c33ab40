import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { createAdaptorServer } from '@hono/node-server';
import type { Hono } from 'hono';
import { existsSync, mkdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { join, resolve } from 'node:path';
import { fetchServerPins, formatPin, pinFromCertificate, toHex } from '../shared/index';
import type { ApiEnv } from './api/route-table';
import { GatewayApi } from '../dashboard/api/api-client';
import { createDashboard } from '../dashboard/app';
import { createApi } from './api/create-api';
import { hashApiToken } from './auth/api-tokens';
import { PBKDF2_ITERATIONS } from './auth/device-credentials';
import { PresenceWriter } from './protocol/presence-writer';
import { DeviceAdmission } from './broker/device-admission';
import { systemClock, type Clock } from './clock';
import { parseGatewayConfig, type GatewayConfig, type GatewayConfigInput } from './config/schema';
import { openRegistry } from './registry/open-registry';
import { consoleLogger, type Logger } from './logger';
import { bootstrapKeyset } from './keysets/bootstrap-keyset';
import { KeysetRotation } from './keysets/keyset-rotation';
import type { FetchServerPins } from './pinsets/live-check';
import { PinSetPublisher } from './pinsets/pinset-publisher';
import { TrustedKeysets } from './keysets/trusted-keysets';
import { Delivery, type DeliverResult } from './protocol/delivery';
import { deviceMessageHandler } from './protocol/device-messages';
import { EventBus } from './events/event-bus';
import { MalformedMessages } from './protocol/malformed-messages';
import { ReportLimiter } from './protocol/report-limiter';
import { IngestWriter } from './registry/ingest-writer';
import { HelloWriter } from './protocol/hello-writer';
import { BrowserEventStream } from './events/browser-event-stream';
import { PinSetViews } from './registry/pinset-views';
import { RolloutDriver, type RolloutDriverOptions } from './rollout-driver/rollout-driver';
import { ensureAdminToken } from './secrets/admin-token';
import { backupSignerFile, loadGatewaySigner } from './secrets/signer-keys';
import { ensureTlsMaterial } from './secrets/tls-material';
import { startDeviceTransport } from './start-transport';
import type { DeviceTransport, TransportHandlers } from './transport/device-transport';
import { GatewayMetrics, refusedConnectReason } from './metrics/gateway-metrics';
import { registerFleetGauges } from './metrics/fleet-gauges';
import { registerOutboxGauges } from './metrics/outbox-gauges';
import { listenMetrics, metricsRoute } from './metrics/metrics-endpoint';
import { DeviceDecommission } from './decommission/device-decommission';
import { WebhookDispatcher } from './webhooks/webhook-dispatcher';
import { lifecycleWebhooks, RotationWatcher, rolloutWebhooks, securityWebhooks } from './webhooks/webhook-events';
import { SecurityMetrics } from './metrics/security-metrics';
import { SecurityLedger } from './security/security-ledger';
import { startLifecycle } from './start-lifecycle';
import { startLeadership, type ReplicaRole } from './start-leadership';
import type { Leadership } from './leadership/leader-elector';

export interface GatewayDeps {
  clock?: Clock;
  logger?: Logger;
  /** The live check's TLS probe (tests point host names at local servers). */
  fetchServerPins?: FetchServerPins;
  /** Rollout driver timers (tests may turn them off and call `rollouts.tick()` with a manual clock). */
  rolloutTimers?: Partial<Pick<RolloutDriverOptions, 'autoTick' | 'eventDelayMs'>>;
  /**
   * A device transport of the caller's instead of the configured broker (bench/million.ts drives a million
   * simulated devices through the same handlers without sockets). Production never sets it: start-transport.ts picks.
   */
  transport?: (handlers: TransportHandlers) => DeviceTransport;
}

export interface RunningGateway {
  /**
   * Bound addresses (port 0 in the config gets an ephemeral port). mqtt is null when plain MQTT is off or devices
   * use an external broker; mqtts is then the external broker's host and port.
   */
  mqtt: { host: string; port: number } | null;
  mqtts: { host: string; port: number };
  /** 'embedded', or the external broker's URL. */
  broker: string;
  http: { host: string; port: number; url: string };
  /** Where Prometheus scrapes (null: PINGW_METRICS_PORT=off). */
  metrics: { url: string } | null;
  dataDir: string;
  /** database: the SQLite file, or the PostgreSQL URL without its password. */
  files: { database: string; adminToken: string; signerKey: string; backupSigner: string | null; tlsCert: string; tlsKey: string };
  /** Whether this start created the admin token / TLS pair / backup signer. */
  created: { adminToken: boolean; tls: boolean; signerKey: boolean; backupSigner: boolean };
  /** null when the gateway runs with no private key (PINGW_SIGNER=offline). */
  signerPublicKey: string | null;
  /** hello / ack / report / delivered / flagged / malformed / online / offline, for the rollout engine. */
  events: EventBus;
  /** Delivers one pin set to one device (published now if connected, else on its next hello). */
  deliver(deviceId: string, pinsetId: number): Promise<DeliverResult>;
  /** The staged-rollout driver (tests drive `tick()` directly when its timers are off). */
  rollouts: RolloutDriver;
  /** Live events behind GET /api/events. */
  hub: BrowserEventStream;
  /** The Hono app (for `app.request()` in tests). */
  api: Hono<ApiEnv>;
  /**
   * Re-reads the broker TLS certificate and key files (files.tlsCert / files.tlsKey) and serves them to new
   * MQTT/TLS connections; established connections keep their session. `pin` is the new key's sha256/… pin.
   * Rejects, keeping the old pair, when the files do not hold a usable pair. main.ts calls it on SIGHUP.
   */
  reloadTls(): Promise<{ pin: string }>;
  /** Stops accepting, drains in-flight device messages, flushes the ingest buffer and closes the database. */
  stop(): Promise<void>;
}

/** SIGHUP / RunningGateway.reloadTls: the same two files, read again (a missing file is an error, never regenerated). */
async function reloadTls(transport: DeviceTransport, files: { certFile: string; keyFile: string }, logger: Logger): Promise<{ pin: string }> {
  try {
    const [cert, key] = await Promise.all([readFile(files.certFile), readFile(files.keyFile)]);
    const pin = formatPin(pinFromCertificate(cert));
    if (!transport.reloadTls({ cert, key })) throw new Error('devices use an external broker, which reloads its own TLS key');
    logger.info('broker TLS key reloaded', { pin, certFile: files.certFile });
    return { pin };
  } catch (err) {
    logger.error('broker TLS reload failed, still serving the previous key', { certFile: files.certFile, error: (err as Error).message });
    throw err;
  }
}

function displayHost(host: string): string {
  return host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
}

/** The composition root: everything the gateway runs, wired once. */
export async function startGateway(input: GatewayConfigInput | GatewayConfig, deps: GatewayDeps = {}): Promise<RunningGateway> {
  const config = parseGatewayConfig(input);
  const clock = deps.clock ?? systemClock;
  const logger = deps.logger ?? consoleLogger;
  const resolveTo = config.lifecycle.probeResolve;
  // PINGW_PROBE_RESOLVE: connect to the mapped address, present the host name (SNI) as a device would
  const fetchPins: FetchServerPins =
    deps.fetchServerPins ??
    ((host, port, opts) => {
      const address = resolveTo[host.toLowerCase()];
      return address === undefined ? fetchServerPins(host, port, opts) : fetchServerPins(address, port, { ...opts, servername: host });
    });

  const dataDir = resolve(config.dataDir);
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const files = {
    database: join(dataDir, 'registry.sqlite'),
    adminToken: config.adminTokenFile ?? join(dataDir, 'admin.token'),
    signerKey: config.signerKeyFile ?? join(dataDir, 'signer.key'),
  };

  const registry = await openRegistry({ file: files.database, ...config.database }, clock);
  const cleanup: (() => Promise<void> | void)[] = [() => registry.close()];
  try {
    const { devices, pinsets, keysets, tokens, audit, coverage, telemetry, rotations } = registry;
    const rolloutStore = registry.rollouts;
    const views = new PinSetViews((sha) => pinsets.getBySha256(sha));
    const hub = new BrowserEventStream();
    const reconciled = await coverage.reconcilePending(); // devices of a data dir from before the coverage counters
    if (reconciled > 0) logger.info('coverage counters built', { devices: reconciled });
    // the outbox's lease holder: this process (a restart is a new holder; its old leases simply run out)
    const webhookHolder = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
    const dispatcher = new WebhookDispatcher({ store: registry.webhooks, outbox: registry.webhookOutbox, clock, logger, holder: webhookHolder }, config.webhooks);
    cleanup.unshift(() => dispatcher.stop());
    await dispatcher.reload();
    dispatcher.start(); // every replica delivers: what waits in the outbox, a dead replica's deliveries included
    const rotationWatch = new RotationWatcher({ devices, coverage, views, dispatcher, clock, logger });
    cleanup.unshift(() => rotationWatch.stop());
    // replicas: the rotation-gate webhooks are the leader's (one delivery per transition for the whole fleet), fed by
    // coverage changes of every replica (local ones here, the others' through the fan-out below)
    let leadership: Leadership | null = null;
    const leads = () => leadership?.isLeader() === true;
    registry.onCoverageChange = (fleet) => {
      hub.coalesce(`coverage:${fleet}`, () => ({ type: 'coverage', fleet }));
      if (leads()) rotationWatch.changed(fleet);
    };

    const signer = loadGatewaySigner({ mode: config.signer, file: files.signerKey, currentKeysetVersion: (await keysets.current())?.version ?? null });
    const backupFile = backupSignerFile(dataDir);
    const keyset = await bootstrapKeyset({ keysets, audit, signer: signer.key, keysetFile: config.keysetFile, backupPublicKeys: config.backupPublicKeys, backupFile, clock, logger });
    const admin = ensureAdminToken(files.adminToken);
    await tokens.upsert('admin', 'admin', hashApiToken(admin.token), clock.now());
    const tls = ensureTlsMaterial(config.tls, dataDir, config.tlsHostnames);

    const events = new EventBus(logger);
    rolloutWebhooks(events, dispatcher);
    lifecycleWebhooks(events, dispatcher);
    securityWebhooks(events, dispatcher);
    const ingest = new IngestWriter(registry.ingest, clock, config.ingest);
    cleanup.unshift(() => ingest.close());
    // hellos are group-committed too, with the ingest's batching settings (docs/million.md)
    const helloWriter = new HelloWriter(registry, config.ingest);
    cleanup.unshift(() => helloWriter.close());
    const malformed = new MalformedMessages({ ingest, events, logger, clock, windowMs: config.malformedLogWindowMs });
    const trusted = new TrustedKeysets(keysets);
    const reportLimiter = new ReportLimiter(); // issue 17: dedupe and cap reports per device

    // issue 17: login throttle, bounded credential checks, a credential used from two connections at once
    const admission = new DeviceAdmission({
      clock,
      logger,
      onAuthFailure: (deviceId, from, throttled, at) => events.emit('authFailed', { deviceId, from, throttled, at }),
      onTakeover: (t) => {
        // MQTT takeover ([MQTT-3.1.4-2]): the newer connection wins, the older is closed. Audited always; from
        // another address while the older one was alive = two holders of one credential: the device is flagged.
        const record = async () => {
          await audit.append('gateway', 'device.session-takeover', t.deviceId, { from: t.from, previousFrom: t.previousFrom, at: t.at, suspicious: t.suspicious });
          events.emit('takeover', t);
          if (!t.suspicious) return;
          const reason = `credential used from two connections at once (${t.previousFrom} and ${t.from})`;
          await devices.flag(t.deviceId, reason, t.at);
          events.emit('flagged', { deviceId: t.deviceId, reason, at: t.at });
          logger.warn('device credential used from two connections at once', { deviceId: t.deviceId, from: t.from, previousFrom: t.previousFrom });
        };
        record().catch((err: unknown) => logger.error('session takeover not recorded', { deviceId: t.deviceId, error: String(err) }));
      },
    });

    const metrics = new GatewayMetrics();
    metrics.observe(events);
    registerFleetGauges(metrics.registry, { devices, coverage, rollouts: rolloutStore });
    registerOutboxGauges(metrics.registry, { outbox: registry.webhookOutbox, clock });
    // issue 17: the security counters on /metrics, and per fleet / device for GET /api/security and the dashboard
    const securityMetrics = new SecurityMetrics(metrics.registry, { admission: () => admission.stats(), reports: () => reportLimiter.counts });
    securityMetrics.observe(events);
    const securityLedger = new SecurityLedger({ fleetOf: async (id) => (await devices.get(id))?.fleet ?? null, since: clock.now() });
    securityLedger.observe(events);

    const inflight = new Set<Promise<void>>();
    const presenceWriter = new PresenceWriter(registry);
    let handle: ReturnType<typeof deviceMessageHandler> | null = null;
    const handlers: TransportHandlers = {
      onMessage: (deviceId, kind, payload) => {
        if (handle === null) return Promise.reject(new Error('gateway is starting'));
        const p = handle(deviceId, kind, payload);
        const tracked = p.catch(() => {}).finally(() => inflight.delete(tracked));
        inflight.add(tracked);
        return p;
      },
      // a refused publish is counted (kind 'publish') and logged once per window, like a malformed message
      onPublishRefused: (deviceId, topic, code, detail) => malformed.record(deviceId, 'publish', code, `${detail} (${topic})`),
      onPresence: async (deviceId, online) => {
        // the time of the connection itself, taken before the write: the rollout driver compares it with delivery
        // times ("delivered on this very connection"), so it must not move past a delivery made meanwhile
        const at = clock.now();
        await presenceWriter.write(deviceId, online, at); // one transaction per event-loop turn on SQLite (issue 17)
        events.emit(online ? 'online' : 'offline', { deviceId, at });
      },
      // refused CONNECTs with their CONNACK code, where the broker reports them (metrics)
      onConnectRefused: (r) => metrics.connectRefused(refusedConnectReason(r)),
    };
    const transport = deps.transport?.(handlers) ?? (await startDeviceTransport(config, {
      devices, leases: registry.backendLeases, clock, logger, handlers, tls, dataDir, admission,
      // issue 17: an older scrypt hash re-hashed into the fast form after a log-in: counted and audited, once
      onCredentialRehashed: (deviceId, fromForm) => {
        admission.noteRehashed();
        audit
          .append('gateway', 'device.credential-rehashed', deviceId, { from: fromForm, to: 'pbkdf2-sha512', iterations: PBKDF2_ITERATIONS })
          .catch((err: unknown) => logger.error('credential re-hash not audited', { deviceId, error: String(err) }));
      },
    }));
    cleanup.unshift(() => transport.close());

    const delivery = new Delivery({ devices, pinsets, keysets, publisher: transport.publisher, events, clock, logger });
    const rc = config.rollouts;
    const driver = new RolloutDriver(
      {
        registry, devices, rollouts: rolloutStore, pinsets, telemetry, delivery, events, hub, audit, clock, logger,
        // every rollout commit carries this replica's leadership term (E_NOT_LEADER once another replica leads)
        fence: () => leadership?.fence() ?? null,
        onFenced: (reason) => leadership?.fenced(reason),
      },
      {
        tickMs: rc.tickMs,
        eventDelayMs: deps.rolloutTimers?.eventDelayMs ?? Math.min(20, rc.tickMs),
        autoTick: deps.rolloutTimers?.autoTick ?? true,
      },
    );
    cleanup.unshift(() => driver.stop());
    events.on('online', (e) => hub.publish({ type: 'device', deviceId: e.deviceId, online: true }));
    events.on('offline', (e) => hub.publish({ type: 'device', deviceId: e.deviceId, online: false }));
    handle = deviceMessageHandler({
      devices, pinsets, keysets, delivery, malformed, audit, events, ingest, clock, logger, registry, helloWriter, views, heldBack: driver.heldBack, reportLimiter,
    });

    const publisher = new PinSetPublisher({
      pinsets,
      keysets: trusted,
      audit,
      signer: signer.key,
      clock,
      fetchPins,
      liveCheckTimeoutMs: config.liveCheckTimeoutMs,
      validityDays: config.pinsetValidityDays,
    });
    const rotation = new KeysetRotation({ keysets, trusted, devices, delivery, audit, signer: signer.key, clock, logger });
    const rolloutDefaults = {
      rate: { perSecond: rc.ratePerSecond, burst: rc.rateBurst },
      soakMs: rc.soakMs,
      windows: config.maintenanceWindows,
      delivery: { deliveryTimeoutMs: rc.deliveryTimeoutMs, verifyTimeoutMs: rc.verifyTimeoutMs, maxAttempts: rc.maxAttempts },
    };
    const lifecycle = await startLifecycle({
      config, registry, views, fetchPins, driver, publisher, trusted, delivery, events, hub, clock, logger, rolloutDefaults,
    });
    cleanup.unshift(() => lifecycle.stop());
    // leader election (docs/scale.md "Replicas"): the rollout driver, the drift/CT watches and the rotation-gate
    // webhooks run on the leader only; SQLite = one process = always the leader
    const replicaRole: ReplicaRole = await startLeadership({
      config, registry, driver, events, hub, clock, logger,
      bind: (l) => (leadership = l),
      jobs: {
        lead: async () => {
          await rotationWatch.baseline(); // transitions seen by a previous leader are not sent again
          await driver.start();
          lifecycle.startWatches();
        },
        standDown: async () => {
          lifecycle.stop();
          await driver.stop();
        },
      },
      onRemoteHub: (e) => {
        if (e.type === 'coverage' && typeof e.fleet === 'string' && leads()) rotationWatch.changed(e.fleet);
      },
    });
    cleanup.unshift(() => replicaRole.stop());
    const decommission = new DeviceDecommission({ registry, events, hub, clock, logger, credentials: transport.credentials, publisher: transport.publisher });
    const api = createApi({
      devices, pinsets, keysets, tokens, audit, publisher, rotation, delivery, clock, logger, credentials: transport.credentials,
      registry, events, hub, coverage, views, telemetry, rotations, rollouts: rolloutStore, driver, metrics, decommission,
      webhooks: { store: registry.webhooks, dispatcher, rotations: rotationWatch },
      admission,
      telemetryLimits: () => ({ ...reportLimiter.counts }),
      reportsDroppedFor: (deviceId) => reportLimiter.droppedFor(deviceId),
      security: { ledger: securityLedger, metrics: securityMetrics },
      rolloutDefaults,
      killSwitch: lifecycle.killSwitch,
      findings: lifecycle.findings,
      drift: lifecycle.drift,
      ct: lifecycle.ct,
      plans: lifecycle.plans,
      keyAdmission: lifecycle.admission,
    });

    if (config.metrics.port === 'http') api.get('/metrics', metricsRoute(metrics));
    // The operator dashboard talks to the gateway only through its JSON API, here in-process (no socket).
    // Mounted before the first request: hono builds its router on first use.
    api.route('/', createDashboard({
      api: new GatewayApi({ fetch: async (req) => api.fetch(req) }),
      secureCookies: config.dashboardSecureCookies,
      clock,
      logger,
      onRefused: (status) => securityMetrics.refusedDashboard(status),
    }));

    const endpoints = await transport.start();
    const server = createAdaptorServer({ fetch: api.fetch }) as Server;
    await new Promise<void>((ok, fail) => {
      server.once('error', fail);
      server.listen(config.http.port, config.http.host, () => ok());
    });
    const http = server.address() as AddressInfo;
    const metricsPort = config.metrics.port;
    const metricsListener = typeof metricsPort === 'number' ? await listenMetrics(metrics, { host: config.metrics.host, port: metricsPort }) : null;
    if (metricsListener !== null) cleanup.unshift(() => new Promise<void>((ok) => metricsListener.server.close(() => ok())));
    const stopHttp = () =>
      new Promise<void>((ok) => {
        server.close(() => ok());
        server.closeAllConnections();
      });

    let stopping: Promise<void> | null = null;
    const stop = () =>
      (stopping ??= (async () => {
        lifecycle.stop();
        hub.close(); // ends the event streams, so the HTTP server can close
        await stopHttp();
        if (metricsListener !== null) await new Promise<void>((ok) => metricsListener.server.close(() => ok()));
        await transport.close(); // no new device messages after this
        await ingest.flush(); // lets handlers waiting for their commit finish
        await Promise.allSettled([...inflight]);
        await driver.stop(); // commits what the last device events changed
        await replicaRole.stop(); // gives the leadership up (another replica takes over at its next poll)
        rotationWatch.stop();
        await dispatcher.stop(); // requests in flight end; deliveries still waiting stay in the outbox
        await ingest.close();
        await registry.close();
        logger.info('gateway stopped', { dataDir });
      })());

    logger.info('gateway started', {
      http: `http://${displayHost(config.http.host)}:${http.port}`,
      broker: endpoints.broker,
      mqtt: endpoints.mqtt?.port ?? null,
      mqtts: endpoints.mqtts.port,
      dataDir,
      keysetVersion: keyset.version,
    });
    return {
      mqtt: endpoints.mqtt,
      mqtts: endpoints.mqtts,
      broker: endpoints.broker,
      http: { host: config.http.host, port: http.port, url: `http://${displayHost(config.http.host)}:${http.port}` },
      metrics:
        config.metrics.port === 'off'
          ? null
          : metricsListener === null
            ? { url: `http://${displayHost(config.http.host)}:${http.port}/metrics` }
            : { url: `http://${displayHost(config.metrics.host)}:${metricsListener.address.port}/metrics` },
      dataDir,
      files: {
        ...files,
        database: registry.location,
        backupSigner: existsSync(backupFile) ? backupFile : null,
        tlsCert: tls.certFile,
        tlsKey: tls.keyFile,
      },
      created: { adminToken: admin.generated, tls: tls.generated, signerKey: signer.generated, backupSigner: keyset.backupGenerated },
      signerPublicKey: signer.key === null ? null : toHex(signer.key.publicKey),
      events,
      deliver: (deviceId, pinsetId) => delivery.deliver(deviceId, pinsetId),
      reloadTls: () => reloadTls(transport, tls, logger),
      rollouts: driver,
      hub,
      api,
      stop,
    };
  } catch (err) {
    for (const step of cleanup) {
      try {
        await step();
      } catch {
        // best effort: the start-up error is the one to report
      }
    }
    throw err;
  }
}
