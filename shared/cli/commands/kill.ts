import { writeFileSync } from 'node:fs';
import { toHex } from '../../bytes';
import { pinSetFromJson, type PinSetJson } from '../../pinset/json';
import { KILL_MODES, killSetFrom, type KillMode } from '../../pinset/kill-set';
import { signPinSet } from '../../pinset/sign-pinset';
import { envelopeSha256 } from '../../receipt/check-receipt';
import { type ParsedArgs, flag, requireFlag } from '../args';
import type { CliIo } from '../io';
import { readSignerKey } from '../key-files';
import { readJson } from '../read-input';
import { EXIT_OK, EXIT_REFUSED, UsageError } from '../usage-error';

const uintFlag = (args: ParsedArgs, name: string): number | undefined => {
  const v = flag(args, name);
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v)) throw new UsageError(`--${name} must be an unsigned integer`);
  return Number(v);
};

/**
 * `pinctl kill BASE.json --host H [--mode fail-open|unpin] --key KEY --out FILE.cose [--seq N] [--now UNIX] [--valid-days D]`:
 * the offline-signed kill switch (issue 16). BASE.json is the fleet's newest set, as a pin-set JSON or as the
 * gateway's `GET /api/pinsets/:id` answer; the kill set is built exactly as the gateway builds it
 * (shared/pinset/kill-set.ts), so `POST /api/kill-switch/envelope` accepts it.
 */
export function kill(args: ParsedArgs, io: CliIo): number {
  const [path, ...extra] = args.positional;
  if (path === undefined || extra.length > 0) throw new UsageError('kill takes one BASE.json (the fleet\'s newest pin set)');
  const host = requireFlag(args, 'host', 'HOST (the host to stop enforcing)');
  const mode = (flag(args, 'mode') ?? 'fail-open') as KillMode;
  if (!KILL_MODES.includes(mode)) throw new UsageError(`--mode must be one of ${KILL_MODES.join(', ')}`);
  const key = readSignerKey(requireFlag(args, 'key', 'KEY (the signer private key)'));
  const out = requireFlag(args, 'out', 'FILE.cose');
  const raw = readJson(path, 'base pin set') as Record<string, unknown>;
  const baseJson = typeof raw === 'object' && raw !== null && !('hosts' in raw) && 'pinset' in raw ? raw['pinset'] : raw;
  const base = pinSetFromJson(baseJson);
  if (!base.ok) throw new UsageError(`${path} is not a pin set: ${base.error}`);
  const b = baseJson as PinSetJson;
  const now = uintFlag(args, 'now') ?? Math.floor(Date.now() / 1000);
  const built = killSetFrom(b, host, mode, {
    seq: uintFlag(args, 'seq') ?? b.seq + 1,
    issuedAt: now,
    notAfter: now + (uintFlag(args, 'valid-days') ?? 90) * 86_400,
  });
  if (!built.ok) {
    io.err(`pinctl: refused: ${built.error}`);
    return EXIT_REFUSED;
  }
  const parsed = pinSetFromJson(built.value);
  if (!parsed.ok) {
    io.err(`pinctl: refused: the kill set breaks SPEC §2: ${parsed.error}`);
    return EXIT_REFUSED;
  }
  const envelope = signPinSet(parsed.value, key);
  try {
    writeFileSync(out, envelope);
  } catch (e) {
    throw new UsageError(`cannot write ${out}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  io.out(
    `wrote ${out}: kill set (${mode}) of ${host.toLowerCase()} for fleet ${b.target.fleet}, seq ${parsed.value.seq} over seq ${b.seq}, kid ${toHex(key.kid)}, sha256 ${toHex(envelopeSha256(envelope))}`,
  );
  return EXIT_OK;
}
