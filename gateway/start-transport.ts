import type { CredentialPolicy } from './auth/device-credentials';
import type { DeviceAdmission } from './broker/device-admission';
import { createEmbeddedTransport } from './broker/embedded-broker';
import type { Clock } from './clock';
import type { GatewayConfig } from './config/schema';
import { createExternalTransport } from './external-broker/external-transport';
import type { Logger } from './logger';
import type { BackendLeaseRepo } from './registry/backend-lease-repo';
import type { DeviceRepo } from './registry/repositories';
import type { DeviceTransport, TransportHandlers } from './transport/device-transport';

/**
 * The one place that knows which broker carries device traffic (docs/scale.md): the embedded aedes broker unless
 * PINGW_BROKER_URL names an external one. Everything else sees the DeviceTransport seam only.
 */
export async function startDeviceTransport(
  config: GatewayConfig,
  deps: {
    devices: DeviceRepo;
    /** Leases on the external broker's backend client ids (shared by the replicas). */
    leases: BackendLeaseRepo;
    clock: Clock;
    logger: Logger;
    handlers: TransportHandlers;
    tls: { cert: Buffer; key: Buffer };
    dataDir: string;
    /** Login throttle and connect admission of the embedded broker (issue 17); an external broker has its own. */
    admission?: DeviceAdmission;
    /** Told once per stored credential hash re-hashed into the fast form after a log-in (embedded broker). */
    onCredentialRehashed?: (deviceId: string, fromForm: string) => void;
  },
): Promise<DeviceTransport> {
  const { devices, logger, handlers } = deps;
  if (config.credentialHash === 'pbkdf2' && config.credentialScryptN !== undefined) {
    logger.warn('PINGW_CREDENTIAL_SCRYPT_N is deprecated and ignored: new device credentials use PBKDF2 (set PINGW_CREDENTIAL_HASH=scrypt to keep scrypt)', {
      credentialScryptN: config.credentialScryptN,
    });
  }
  if (config.broker === null) {
    await devices.setAllOffline(); // no connection to this process survives its restart
    return createEmbeddedTransport(
      {
        devices, logger, handlers, credentialPolicy: credentialPolicyOf(config),
        ...(deps.admission === undefined ? {} : { admission: deps.admission }),
        ...(deps.onCredentialRehashed === undefined ? {} : { onCredentialRehashed: deps.onCredentialRehashed }),
      },
      { mqtt: config.mqtt, mqtts: config.mqtts, tls: deps.tls },
    );
  }
  // devices stay connected to an external broker while the gateway restarts: their presence is kept (wills of those
  // that left meanwhile wait in the gateway's sessions and arrive on reconnect)
  return createExternalTransport(
    {
      handlers,
      logger,
      isOnline: async (deviceId) => (await devices.get(deviceId))?.online === true,
      listCredentials: () => activeCredentials(devices),
      leases: deps.leases,
      clock: deps.clock,
    },
    { ...config.broker, dataDir: deps.dataDir },
  );
}

/** The hash policy of new device credentials (PINGW_CREDENTIAL_HASH; the scrypt cost only with `scrypt`). */
export function credentialPolicyOf(config: GatewayConfig): CredentialPolicy {
  return config.credentialHash === 'scrypt' ? { kind: 'scrypt', scryptN: config.credentialScryptN ?? 4096 } : { kind: 'pbkdf2' };
}

/** Every enrolled, not decommissioned device with its stored credential hash, in pages (the broker's password file). */
async function* activeCredentials(devices: DeviceRepo): AsyncIterable<{ deviceId: string; hash: string }> {
  let cursor: string | undefined;
  for (;;) {
    const page = await devices.list({ state: 'active' }, 1000, cursor);
    for (const d of page.items) yield { deviceId: d.id, hash: d.credentialHash };
    if (page.nextCursor === null) return;
    cursor = page.nextCursor;
  }
}
