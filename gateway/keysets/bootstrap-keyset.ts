import type { AuditRepo, KeysetRepo } from '../registry/repositories';
import { existsSync } from 'node:fs';
import { toHex, type SignerKey } from '../../shared/index';
import type { Clock } from '../clock';
import type { Logger } from '../logger';
import { ensureSignerKey } from '../secrets/signer-keys';

/**
 * First start: keyset v1 = the gateway signer + the offline backup key(s) (SPEC §5: at least two keys). Without a
 * configured backup key a backup signer is generated into `backupFile` (0600), with a warning to move it offline.
 * Later starts keep the stored keysets (rotation happens through the API).
 */
export async function bootstrapKeyset(args: {
  keysets: KeysetRepo;
  audit: AuditRepo;
  signer: SignerKey;
  backupPublicKeys: string[];
  backupFile: string;
  clock: Clock;
  logger: Logger;
}): Promise<{ version: number; backupGenerated: boolean }> {
  const { keysets, audit, signer, clock, logger } = args;
  const current = await keysets.current();
  if (current) {
    if (!current.publicKeys.includes(toHex(signer.publicKey))) {
      logger.warn('the gateway signer key is not in the current keyset: only envelopes signed offline can be published', {
        version: current.version,
      });
    }
    if (existsSync(args.backupFile)) {
      logger.warn('a backup signer key is still in the data directory: move it offline', { file: args.backupFile });
    }
    return { version: current.version, backupGenerated: false };
  }
  let backups = args.backupPublicKeys.map((k) => k.toLowerCase());
  let backupGenerated = false;
  if (backups.length === 0) {
    const generated = ensureSignerKey(args.backupFile);
    backups = [toHex(generated.key.publicKey)];
    backupGenerated = generated.generated;
    logger.warn('no offline backup key configured (PINGW_BACKUP_PUBLIC_KEYS): generated a backup signer; move it offline', {
      file: args.backupFile,
    });
  }
  const publicKeys = [...new Set([toHex(signer.publicKey), ...backups])];
  if (publicKeys.length < 2) {
    throw new Error('PINGW_BACKUP_PUBLIC_KEYS: the backup keys must differ from the gateway signer (SPEC §5: a keyset holds at least 2 keys)');
  }
  await keysets.insert({ version: 1, publicKeys, envelope: null, createdAt: clock.now(), createdBy: 'gateway' });
  await audit.append('gateway', 'keyset.bootstrap', 'v1', { publicKeys });
  return { version: 1, backupGenerated };
}
