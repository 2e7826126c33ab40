import { writeFileSync } from 'node:fs';
import { publicKeyFromPem } from '../../cose/key-pem';
import { kidOf } from '../../cose/signer-key';
import { keysetToJson } from '../../cose/trusted-keyset';
import { MIN_KEYSET_KEYS } from '../../keyset/keyset-doc';
import { type ParsedArgs, flag, requireFlag } from '../args';
import type { CliIo } from '../io';
import { readBytes } from '../read-input';
import { EXIT_OK, UsageError } from '../usage-error';
import { signKeysetOffline } from './keyset-sign';

/**
 * `pinctl keyset --version N A.pub B.pub… [--out KEYSET.json]`: the trusted keyset file that `inspect` and
 * the gateway read, from public keys written by `keygen` (SPEC §5: at least two, the live and the backup signer).
 * With `--sign-with KEY --current CURRENT.json --envelope KEYSET.cose` it is also signed for a rotation.
 */
export function keyset(args: ParsedArgs, io: CliIo): number {
  const v = requireFlag(args, 'version', 'N (the keyset version)');
  if (!/^\d+$/.test(v)) throw new UsageError('--version must be an unsigned integer');
  if (args.positional.length < MIN_KEYSET_KEYS) {
    throw new UsageError(`a keyset needs at least ${MIN_KEYSET_KEYS} public keys (the live signer and an offline backup)`);
  }
  const publicKeys = args.positional.map((path) => {
    const pem = Buffer.from(readBytes(path, 'public key')).toString('utf8');
    try {
      return publicKeyFromPem(pem);
    } catch (e) {
      throw new UsageError(`${path} is not an Ed25519 public key (SPKI PEM): ${(e as Error).message.replace(/^publicKeyFromPem: /, '')}`);
    }
  });
  const kids = new Set(publicKeys.map((pk) => Buffer.from(kidOf(pk)).toString('hex')));
  if (kids.size !== publicKeys.length) throw new UsageError('the same public key is given twice');
  const next = { version: Number(v), publicKeys };
  const text = `${JSON.stringify(keysetToJson(next), null, 2)}\n`;
  const out = flag(args, 'out');
  const signing = args.flags.has('sign-with');
  if (signing) {
    if (out === undefined) throw new UsageError('missing --out KEYSET.json (the new keyset, for inspect and devices)');
    const code = signKeysetOffline(args, io, next); // refused: nothing is written
    if (code !== EXIT_OK) return code;
  }
  if (out === undefined) io.out(text.trimEnd());
  else {
    try {
      writeFileSync(out, text);
    } catch (e) {
      throw new UsageError(`cannot write ${out}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    io.out(`wrote ${out}: keyset v${v} with ${publicKeys.length} keys`);
  }
  return EXIT_OK;
}
