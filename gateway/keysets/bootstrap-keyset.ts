import type { AuditRepo, KeysetRepo } from '../registry/repositories';
import { existsSync, readFileSync } from 'node:fs';
import { keysetFromJson, toHex, type SignerKey } from '../../shared/index';
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
  /** null: the gateway runs with no private key (PINGW_SIGNER=offline). */
  signer: SignerKey | null;
  /** The first keyset as `pinctl keyset` writes it, when the registry holds none. */
  keysetFile: string | null;
  backupPublicKeys: string[];
  backupFile: string;
  clock: Clock;
  logger: Logger;
}): Promise<{ version: number; backupGenerated: boolean }> {
  const { keysets, audit, signer, clock, logger } = args;
  const current = await keysets.current();
  if (current) {
    if (signer === null) {
      logger.info('no gateway signer key (PINGW_SIGNER=offline): only envelopes signed offline are accepted', { version: current.version });
    } else if (!current.publicKeys.includes(toHex(signer.publicKey))) {
      logger.warn('the gateway signer key is not in the current keyset: only envelopes signed offline can be published', {
        version: current.version,
      });
    }
    if (existsSync(args.backupFile)) {
      logger.warn('a backup signer key is still in the data directory: move it offline', { file: args.backupFile });
    }
    return { version: current.version, backupGenerated: false };
  }
  if (args.keysetFile !== null) return fromKeysetFile(args.keysetFile, args);
  if (signer === null) {
    throw new Error(
      'PINGW_SIGNER=offline needs the first keyset: set PINGW_KEYSET_FILE to the keyset JSON that `pinctl keyset` wrote ' +
        '(the public keys of your offline signers)',
    );
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

async function fromKeysetFile(
  file: string,
  args: { keysets: KeysetRepo; audit: AuditRepo; signer: SignerKey | null; clock: Clock; logger: Logger },
): Promise<{ version: number; backupGenerated: boolean }> {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new Error(`PINGW_KEYSET_FILE ${file}: ${(e as Error).message}`);
  }
  const parsed = keysetFromJson(json);
  if (!parsed.ok) throw new Error(`PINGW_KEYSET_FILE ${file}: ${parsed.error}`);
  const { version } = parsed.value;
  const publicKeys = [...new Set(parsed.value.publicKeys.map(toHex))];
  if (publicKeys.length < 2) throw new Error(`PINGW_KEYSET_FILE ${file}: SPEC §5: a keyset holds at least 2 keys`);
  if (args.signer !== null && !publicKeys.includes(toHex(args.signer.publicKey))) {
    args.logger.warn('the gateway signer key is not in PINGW_KEYSET_FILE: only envelopes signed offline can be published', { version });
  }
  await args.keysets.insert({ version, publicKeys, envelope: null, createdAt: args.clock.now(), createdBy: 'gateway' });
  await args.audit.append('gateway', 'keyset.bootstrap', `v${version}`, { publicKeys, file });
  return { version, backupGenerated: false };
}
