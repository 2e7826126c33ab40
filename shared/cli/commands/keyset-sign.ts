import { writeFileSync } from 'node:fs';
import { toBase64, toHex } from '../../bytes';
import { findKeyByKid, keysetFromJson, type TrustedKeyset } from '../../cose/trusted-keyset';
import { checkKeysetUpdate, signKeyset } from '../../keyset/keyset-doc';
import { type ParsedArgs, nowFlag, requireFlag, flag } from '../args';
import type { CliIo } from '../io';
import { readSignerKey } from '../key-files';
import { readJson } from '../read-input';
import { EXIT_OK, EXIT_REFUSED, UsageError } from '../usage-error';

function write(path: string, data: string | Uint8Array): void {
  try {
    writeFileSync(path, data);
  } catch (e) {
    throw new UsageError(`cannot write ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

/**
 * The offline half of a SPEC §5 rotation: keyset v(n+1) signed with a key of keyset v(n) (the backup signer when
 * the gateway's key is lost), checked exactly as a device checks it, and written as the envelope plus the body of
 * POST /api/keysets/rotate. The gateway needs no private key for this, nor any custom code.
 */
export function signKeysetOffline(args: ParsedArgs, io: CliIo, next: TrustedKeyset): number {
  const keyPath = requireFlag(args, 'sign-with', 'KEY (a private key of the current keyset)');
  const currentPath = requireFlag(args, 'current', 'CURRENT.json (the keyset the devices hold now)');
  const envelopePath = requireFlag(args, 'envelope', 'KEYSET.cose (where to write the signed keyset)');
  const cur = keysetFromJson(readJson(currentPath, 'keyset'));
  if (!cur.ok) throw new UsageError(`${currentPath}: ${cur.error}`);
  const current = cur.value;
  const key = readSignerKey(keyPath);
  if (findKeyByKid(current, key.kid) === undefined) {
    io.err(`pinctl: refused: key ${toHex(key.kid)} is not in keyset v${current.version}; devices would answer E_KID`);
    return EXIT_REFUSED;
  }
  if (next.version !== current.version + 1) {
    io.err(`pinctl: refused: keyset v${next.version} is not the successor of v${current.version} (SPEC §5, devices answer E_KEYSET)`);
    return EXIT_REFUSED;
  }
  const issuedAt = nowFlag(args);
  const envelope = signKeyset({ format: 1, version: next.version, publicKeys: next.publicKeys, issuedAt }, key);
  // Our own output must pass the check a device runs on it.
  const check = checkKeysetUpdate(envelope, current, issuedAt);
  if (!check.ok) throw new Error(`signed keyset fails its own check: ${check.code} ${check.detail}`);
  write(envelopePath, envelope);
  const request = { publicKeys: next.publicKeys.map(toHex), envelope: toBase64(envelope) };
  const requestPath = flag(args, 'request');
  if (requestPath !== undefined) write(requestPath, `${JSON.stringify(request)}\n`);
  io.out(`wrote ${envelopePath}: keyset v${next.version} signed by kid ${toHex(key.kid)} of keyset v${current.version}`);
  io.out(
    requestPath !== undefined
      ? `upload: curl -XPOST …/api/keysets/rotate -H "authorization: Bearer …" -H 'content-type: application/json' -d @${requestPath}`
      : `rotate request ${JSON.stringify(request)}`,
  );
  return EXIT_OK;
}
