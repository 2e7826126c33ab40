import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { toHex } from '../../bytes';
import { generateSignerKey } from '../../cose/signer-key';
import { type ParsedArgs, flag, requireFlag } from '../args';
import type { CliIo } from '../io';
import { publicKeyToPem, signerKeyToPem } from '../../cose/key-pem';
import { EXIT_OK, UsageError } from '../usage-error';

/** `pinctl keygen --out DIR [--name signer] [--force]`: never prints the private key. */
export function keygen(args: ParsedArgs, io: CliIo): number {
  const dir = requireFlag(args, 'out', 'DIR (where to write the key pair)');
  const name = flag(args, 'name') ?? 'signer';
  if (!/^[A-Za-z0-9._-]+$/.test(name)) throw new UsageError(`--name ${name} must be a plain file name`);
  const keyPath = join(dir, `${name}.key`);
  const pubPath = join(dir, `${name}.pub`);
  if (existsSync(keyPath) && args.flags.get('force') !== true) {
    throw new UsageError(`${keyPath} exists; refusing to overwrite a signer key (pass --force to replace it)`);
  }
  const key = generateSignerKey();
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    // 0600 from creation on: the private key is never readable by others, not even for a moment.
    writeFileSync(keyPath, signerKeyToPem(key), { mode: 0o600, flag: 'w' });
    writeFileSync(pubPath, publicKeyToPem(key.publicKey), { mode: 0o644 });
  } catch (e) {
    throw new UsageError(`cannot write to ${dir}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  io.out(`wrote ${keyPath} (private, mode 0600) and ${pubPath}`);
  io.out(`kid ${toHex(key.kid)}`);
  io.out(`keyset entry ${JSON.stringify({ kid: toHex(key.kid), publicKey: toHex(key.publicKey) })}`);
  return EXIT_OK;
}
