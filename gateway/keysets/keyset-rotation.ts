import type { AuditRepo, DeviceRepo, KeysetRepo } from '../registry/repositories';
import { bytesEqual, checkKeysetUpdate, fromHex, signKeyset, toHex, validateKeysetDoc, type SignerKey } from '../../shared/index';
import { DomainError } from '../errors/domain-error';
import type { Clock } from '../clock';
import type { Logger } from '../logger';
import type { Delivery } from '../protocol/delivery';

import type { TrustedKeysets } from './trusted-keysets';

export interface RotationResult {
  version: number;
  publicKeys: string[];
  /** Whether the gateway's own signer is in the new keyset (else JSON pin sets cannot be signed here). */
  gatewayCanSign: boolean;
  /** Connected devices the keyset document was published to; the others get it on their next hello. */
  pushed: number;
}

/**
 * SPEC §5 rotation: keyset v(n+1) signed by a key of keyset v(n) — by the gateway's signer, or offline (e.g. by
 * the backup signer) and uploaded as an envelope. The signed document is what devices receive on their keyset topic.
 */
export class KeysetRotation {
  constructor(
    private readonly deps: {
      keysets: KeysetRepo;
      trusted: TrustedKeysets;
      devices: DeviceRepo;
      delivery: Delivery;
      audit: AuditRepo;
      /** null: PINGW_SIGNER=offline, rotations arrive signed offline only. */
      signer: SignerKey | null;
      clock: Clock;
      logger: Logger;
    },
  ) {}

  async rotate(
    publicKeysHex: string[],
    envelope: Uint8Array | undefined,
    actor: string,
    removal: { removeSigners?: boolean; reason?: string } = {},
  ): Promise<RotationResult> {
    const { keysets, trusted, signer, clock, audit } = this.deps;
    const current = await trusted.current();
    const publicKeys = publicKeysHex.map((h) => fromHex(h));
    const issuedAt = Math.floor(clock.now() / 1000);
    let signed: Uint8Array;
    if (envelope !== undefined) {
      const result = checkKeysetUpdate(envelope, current, issuedAt);
      if (!result.ok) throw new DomainError(result.code, result.detail);
      const same =
        result.doc.publicKeys.length === publicKeys.length && result.doc.publicKeys.every((k) => publicKeys.some((p) => bytesEqual(k, p)));
      if (!same) throw new DomainError('E_KEYSET_MISMATCH', 'publicKeys differ from the keys in the signed keyset document');
      signed = envelope;
    } else {
      if (signer === null) {
        throw new DomainError('E_NO_SIGNER', 'the gateway runs without a signer key: upload a keyset signed offline (pinctl keyset --sign-with)');
      }
      if (!trusted.includes(current, signer.publicKey)) {
        throw new DomainError('E_NO_SIGNER', `the gateway's signer is not in keyset v${current.version}: upload a keyset signed offline`);
      }
      const doc = { format: 1 as const, version: current.version + 1, publicKeys, issuedAt };
      const problems = validateKeysetDoc(doc);
      if (problems.length > 0) throw new DomainError('E_SCHEMA', problems.join('; '));
      signed = signKeyset(doc, signer);
    }
    // SPEC §5: the keyset is the devices' root of trust. Leaving out the gateway's signer stops JSON pin sets
    // (E_NO_SIGNER); leaving out the backup signer loses the offline rescue. Either is said explicitly, with a
    // reason. Checked after the envelope, so a forged one is refused for what it is.
    const removed = current.publicKeys.filter((k) => !publicKeys.some((p) => bytesEqual(k, p)));
    const removedHex = removed.map((k) => toHex(k));
    // An envelope signed offline by a key of the current keyset is that key holder's own explicit act (SPEC §5):
    // it needs no flag; the removal is audited all the same.
    if (removed.length > 0 && envelope === undefined && removal.removeSigners !== true) {
      const which = removed.map((k) => (signer !== null && bytesEqual(k, signer.publicKey) ? 'the gateway signer' : `signer ${toHex(k).slice(0, 16)}…`));
      throw new DomainError('E_REMOVES_SIGNER', `this rotation removes ${which.join(' and ')} from keyset v${current.version}: confirm with removeSigners: true and a reason`, {
        removed: removedHex,
      });
    }
    const version = current.version + 1;
    await keysets.insert({ version, publicKeys: publicKeysHex.map((h) => h.toLowerCase()), envelope: Buffer.from(signed), createdAt: clock.now(), createdBy: actor });
    const gatewayCanSign = signer !== null && publicKeys.some((k) => bytesEqual(k, signer.publicKey));
    await audit.append(actor, 'keyset.rotate', `v${version}`, {
      publicKeys: publicKeysHex,
      offline: envelope !== undefined,
      gatewayCanSign,
      ...(removed.length > 0 ? { removedSigners: removedHex, reason: removal.reason?.trim() ?? null } : {}),
    });
    if (!gatewayCanSign && signer !== null) this.deps.logger.warn('the gateway signer is not in the new keyset: configure its new key to sign JSON pin sets', { version });
    const pushed = await this.pushToConnected();
    return { version, publicKeys: publicKeysHex.map((h) => h.toLowerCase()), gatewayCanSign, pushed };
  }

  private async pushToConnected(): Promise<number> {
    const { devices, delivery, logger } = this.deps;
    let pushed = 0;
    for (const id of await devices.onlineIds()) {
      const device = await devices.get(id);
      if (!device) continue;
      try {
        if ((await delivery.pushKeysets(id, device.keysetVersion)) > 0) pushed++;
      } catch (err) {
        logger.warn('keyset push failed', { deviceId: id, error: String(err) });
      }
    }
    return pushed;
  }
}
