import { createAdaptorServer } from '@hono/node-server';
import type { Hono } from 'hono';
import { existsSync, mkdirSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { join, resolve } from 'node:path';
import { fetchServerPins, toHex } from '../shared/index';
import type { ApiEnv } from './api/route-table';
import { createApi } from './api/create-api';
import { hashApiToken } from './auth/api-tokens';
import { createEmbeddedBroker } from './broker/embedded-broker';
import { systemClock, type Clock } from './clock';
import { parseGatewayConfig, type GatewayConfig, type GatewayConfigInput } from './config/schema';
import { openRegistryDb } from './db/open';
import { consoleLogger, type Logger } from './logger';
import { bootstrapKeyset } from './pinsets/bootstrap-keyset';
import { KeysetRotation } from './pinsets/keyset-rotation';
import type { FetchServerPins } from './pinsets/live-check';
import { PinsetPublisher } from './pinsets/pinset-publisher';
import { TrustedKeysets } from './pinsets/trusted-keysets';
import { Delivery, type DeliverResult } from './protocol/delivery';
import { deviceMessageHandler } from './protocol/device-messages';
import { GatewayEvents } from './protocol/gateway-events';
import { MalformedMessages } from './protocol/malformed-messages';
import { AuditLog } from './registry/audit-log';
import { DeviceStore } from './registry/device-store';
import { IngestWriter } from './registry/ingest-writer';
import { KeysetStore } from './registry/keyset-store';
import { PinsetStore } from './registry/pinset-store';
import { TokenStore } from './registry/token-store';
import { ensureAdminToken } from './secrets/admin-token';
import { backupSignerFile, ensureSignerKey } from './secrets/signer-keys';
import { ensureTlsMaterial } from './secrets/tls-material';

export interface GatewayDeps {
  clock?: Clock;
  logger?: Logger;
  /** The live check's TLS probe (tests point host names at local servers). */
  fetchServerPins?: FetchServerPins;
}

export interface RunningGateway {
  /** Bound addresses (port 0 in the config gets an ephemeral port). mqtt is null when plain MQTT is off. */
  mqtt: { host: string; port: number } | null;
  mqtts: { host: string; port: number };
  http: { host: string; port: number; url: string };
  dataDir: string;
  files: { database: string; adminToken: string; signerKey: string; backupSigner: string | null; tlsCert: string; tlsKey: string };
  /** Whether this start created the admin token / TLS pair / backup signer. */
  created: { adminToken: boolean; tls: boolean; signerKey: boolean; backupSigner: boolean };
  signerPublicKey: string;
  /** hello / ack / report / delivered / flagged / malformed / online / offline, for the rollout engine. */
  events: GatewayEvents;
  /** Delivers one pin set to one device (published now if connected, else on its next hello). */
  deliver(deviceId: string, pinsetId: number): Promise<DeliverResult>;
  /** The Hono app (for `app.request()` in tests). */
  api: Hono<ApiEnv>;
  /** Stops accepting, drains in-flight device messages, flushes the ingest buffer and closes the database. */
  stop(): Promise<void>;
}

function displayHost(host: string): string {
  return host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
}

/** The composition root: everything the gateway runs, wired once. */
export async function startGateway(input: GatewayConfigInput | GatewayConfig, deps: GatewayDeps = {}): Promise<RunningGateway> {
  const config = parseGatewayConfig(input);
  const clock = deps.clock ?? systemClock;
  const logger = deps.logger ?? consoleLogger;
  const fetchPins: FetchServerPins = deps.fetchServerPins ?? ((host, port, opts) => fetchServerPins(host, port, opts));

  const dataDir = resolve(config.dataDir);
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const files = {
    database: join(dataDir, 'registry.sqlite'),
    adminToken: config.adminTokenFile ?? join(dataDir, 'admin.token'),
    signerKey: config.signerKeyFile ?? join(dataDir, 'signer.key'),
  };

  const db = openRegistryDb(files.database);
  const cleanup: (() => Promise<void> | void)[] = [
    () => {
      db.$client.close();
    },
  ];
  try {
    const devices = new DeviceStore(db);
    const pinsets = new PinsetStore(db);
    const keysets = new KeysetStore(db);
    const tokens = new TokenStore(db);
    const audit = new AuditLog(db, clock);
    devices.setAllOffline(); // no connection survives a restart

    const signer = ensureSignerKey(files.signerKey);
    const backupFile = backupSignerFile(dataDir);
    const keyset = bootstrapKeyset({ keysets, audit, signer: signer.key, backupPublicKeys: config.backupPublicKeys, backupFile, clock, logger });
    const admin = ensureAdminToken(files.adminToken);
    tokens.upsert('admin', 'admin', hashApiToken(admin.token), clock.now());
    const tls = ensureTlsMaterial(config.tls, dataDir, config.tlsHostnames);

    const events = new GatewayEvents(logger);
    const ingest = new IngestWriter(db, clock, config.ingest);
    cleanup.unshift(() => ingest.close());
    const malformed = new MalformedMessages({ ingest, events, logger, clock, windowMs: config.malformedLogWindowMs });
    const trusted = new TrustedKeysets(keysets);

    const inflight = new Set<Promise<void>>();
    let handle: ReturnType<typeof deviceMessageHandler> | null = null;
    const broker = await createEmbeddedBroker({
      devices,
      events,
      clock,
      logger,
      onMessage: (deviceId, kind, payload) => {
        if (handle === null) return Promise.reject(new Error('gateway is starting'));
        const p = handle(deviceId, kind, payload);
        const tracked = p.catch(() => {}).finally(() => inflight.delete(tracked));
        inflight.add(tracked);
        return p;
      },
      // a refused publish is counted (kind 'publish') and logged once per window, like a malformed message
      onPublishRefused: (deviceId, topic, code, detail) => malformed.record(deviceId, 'publish', code, `${detail} (${topic})`),
    });
    cleanup.unshift(() => broker.close());

    const delivery = new Delivery({ devices, pinsets, keysets, publisher: broker.publisher, events, clock, logger });
    handle = deviceMessageHandler({ devices, pinsets, keysets, delivery, malformed, audit, events, ingest, clock, logger });

    const publisher = new PinsetPublisher({
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
    const api = createApi({
      devices, pinsets, keysets, tokens, audit, publisher, rotation, delivery, clock, logger, credentialScryptN: config.credentialScryptN,
    });

    const mqtt = config.mqtt === null ? null : await broker.listenTcp(config.mqtt);
    const mqtts = await broker.listenTls(config.mqtts, tls);
    const server = createAdaptorServer({ fetch: api.fetch }) as Server;
    await new Promise<void>((ok, fail) => {
      server.once('error', fail);
      server.listen(config.http.port, config.http.host, () => ok());
    });
    const http = server.address() as AddressInfo;
    const stopHttp = () =>
      new Promise<void>((ok) => {
        server.close(() => ok());
        server.closeAllConnections();
      });

    let stopping: Promise<void> | null = null;
    const stop = () =>
      (stopping ??= (async () => {
        await stopHttp();
        await broker.close(); // no new device messages after this
        ingest.flush(); // lets handlers waiting for their commit finish
        await Promise.allSettled([...inflight]);
        ingest.close();
        db.$client.close();
        logger.info('gateway stopped', { dataDir });
      })());

    logger.info('gateway started', {
      http: `http://${displayHost(config.http.host)}:${http.port}`,
      mqtt: mqtt?.port ?? null,
      mqtts: mqtts.port,
      dataDir,
      keysetVersion: keyset.version,
    });
    return {
      mqtt: mqtt === null ? null : { host: config.mqtt?.host ?? '', port: mqtt.port },
      mqtts: { host: config.mqtts.host, port: mqtts.port },
      http: { host: config.http.host, port: http.port, url: `http://${displayHost(config.http.host)}:${http.port}` },
      dataDir,
      files: {
        ...files,
        backupSigner: existsSync(backupFile) ? backupFile : null,
        tlsCert: tls.certFile,
        tlsKey: tls.keyFile,
      },
      created: { adminToken: admin.generated, tls: tls.generated, signerKey: signer.generated, backupSigner: keyset.backupGenerated },
      signerPublicKey: toHex(signer.key.publicKey),
      events,
      deliver: (deviceId, pinsetId) => delivery.deliver(deviceId, pinsetId),
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
