import { writeFileSync } from 'node:fs';
import { toHex } from '../../bytes';
import { findKeyByKid, keysetFromJson } from '../../cose/trusted-keyset';
import { pinSetFromJson } from '../../pinset/json';
import { signPinSet } from '../../pinset/sign-pinset';
import { envelopeSha256 } from '../../receipt/check-receipt';
import { type ParsedArgs, flag, nowFlag, requireFlag } from '../args';
import type { CliIo } from '../io';
import { readSignerKey } from '../key-files';
import { readJson } from '../read-input';
import { EXIT_OK, EXIT_REFUSED, UsageError } from '../usage-error';

/** `pinctl sign PINSET.json --key KEY --out FILE.cose [--keyset KEYSET.json] [--now UNIX]`. */
export function sign(args: ParsedArgs, io: CliIo): number {
  const [path, ...extra] = args.positional;
  if (path === undefined || extra.length > 0) throw new UsageError('sign takes one PINSET.json');
  const keyPath = requireFlag(args, 'key', 'KEY (the signer private key)');
  const out = requireFlag(args, 'out', 'FILE.cose');
  const key = readSignerKey(keyPath);
  const parsed = pinSetFromJson(readJson(path, 'pin set'));
  if (!parsed.ok) {
    // A set that breaks SPEC §2 is never signed; the verdict is exit 1, like a refused `inspect`.
    io.err(`pinctl: refused: ${path} breaks SPEC §2: ${parsed.error}`);
    return EXIT_REFUSED;
  }
  const now = nowFlag(args);
  if (parsed.value.notAfter < now) {
    // SPEC §4 E_EXPIRED: every device would refuse it; signing it only produces a file that cannot be rolled out.
    io.err(`pinctl: refused: ${path} expired: notAfter ${parsed.value.notAfter} is before now ${now} (E_EXPIRED)`);
    return EXIT_REFUSED;
  }
  const keysetPath = flag(args, 'keyset');
  if (keysetPath !== undefined) {
    const ks = keysetFromJson(readJson(keysetPath, 'keyset'));
    if (!ks.ok) throw new UsageError(`${keysetPath}: ${ks.error}`);
    if (findKeyByKid(ks.value, key.kid) === undefined) {
      io.err(`pinctl: refused: key ${toHex(key.kid)} is not in keyset v${ks.value.version}; devices would answer E_KID`);
      return EXIT_REFUSED;
    }
    if (parsed.value.keysetVersion !== ks.value.version) {
      io.err(`pinctl: refused: keysetVersion ${parsed.value.keysetVersion} differs from the keyset's version ${ks.value.version}`);
      return EXIT_REFUSED;
    }
  }
  const envelope = signPinSet(parsed.value, key);
  try {
    writeFileSync(out, envelope);
  } catch (e) {
    throw new UsageError(`cannot write ${out}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  io.out(`wrote ${out}: ${envelope.length} bytes, seq ${parsed.value.seq}, kid ${toHex(key.kid)}, sha256 ${toHex(envelopeSha256(envelope))}`);
  return EXIT_OK;
}
