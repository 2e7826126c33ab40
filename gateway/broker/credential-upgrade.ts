import { hashCredential, isCurrentForm, type CredentialPolicy } from '../auth/device-credentials';
import type { Logger } from '../logger';
import type { DeviceRepo } from '../registry/repositories';

export interface CredentialUpgradeDeps {
  devices: DeviceRepo;
  logger: Logger;
  policy: CredentialPolicy;
  /** Told once per hash actually replaced (start.ts audits it: `device.credential-rehashed`). */
  onUpgraded?: (deviceId: string, fromForm: string) => void;
}

/**
 * Re-hashes a device's credential into the policy's form after a successful log-in (issue 17): scrypt hashes of
 * enrolments made before the fast `$7$` PBKDF2 default are replaced the first time the device logs in with its
 * secret, which is the only moment the gateway holds it. Written once: one re-hash in flight per device, and the
 * write is a compare-and-set on the old hash (a second log-in racing the first, or a hash changed meanwhile by
 * another replica, writes nothing). A failed write is logged and retried at the next log-in; the log-in itself
 * never waits for it.
 */
export class CredentialUpgrade {
  private readonly inFlight = new Set<string>();
  /** Hashes replaced since start (GET /api/security `broker.credentialsRehashed`, /metrics). */
  upgraded = 0;

  constructor(private readonly deps: CredentialUpgradeDeps) {}

  /** Called after a log-in whose secret verified against `stored`. */
  afterLogin(deviceId: string, secret: string, stored: string): void {
    const { policy, devices, logger } = this.deps;
    if (isCurrentForm(stored, policy) || this.inFlight.has(deviceId)) return;
    this.inFlight.add(deviceId);
    const fromForm = stored.startsWith('$7$') ? 'pbkdf2' : (stored.split('$')[0] ?? 'unknown');
    hashCredential(secret, policy)
      .then((next) => devices.replaceCredentialHash(deviceId, stored, next))
      .then((written) => {
        if (!written) return;
        this.upgraded += 1;
        this.deps.onUpgraded?.(deviceId, fromForm);
      })
      .catch((err: unknown) => logger.error('credential re-hash not written', { deviceId, error: String(err) }))
      .finally(() => this.inFlight.delete(deviceId));
  }

  /** Re-hashes in flight now. */
  get pending(): number {
    return this.inFlight.size;
  }
}
