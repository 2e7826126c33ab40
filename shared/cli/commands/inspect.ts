import { fromHex, toHex } from '../../bytes';
import { MAX_CLOCK_SKEW_SECONDS } from '../../errors';
import { keysetFromJson } from '../../cose/trusted-keyset';
import { pinSetToJson } from '../../pinset/json';
import { checkReceipt, type DeviceState } from '../../receipt/check-receipt';
import { type ParsedArgs, flag, nowFlag, requireFlag } from '../args';
import type { CliIo } from '../io';
import { readBytes, readJson } from '../read-input';
import { EXIT_OK, EXIT_REFUSED, UsageError } from '../usage-error';

/** DEVICE.json has the shape of a `device` entry of the vectors' `contextual` list. */
function deviceFromJson(json: unknown, path: string): { device: DeviceState; now: number | undefined } {
  const bad = (what: string): never => {
    throw new UsageError(`${path}: ${what}`);
  };
  if (typeof json !== 'object' || json === null) bad('device must be a JSON object');
  const d = json as Record<string, unknown>;
  const uint = (k: string): number =>
    typeof d[k] === 'number' && Number.isSafeInteger(d[k]) && (d[k] as number) >= 0 ? (d[k] as number) : bad(`${k} must be an unsigned integer`);
  const text = (k: string): string => (typeof d[k] === 'string' ? (d[k] as string) : bad(`${k} must be a string`));
  const sha = d['installedSha256'];
  if (sha !== undefined && (typeof sha !== 'string' || !/^[0-9a-fA-F]{64}$/.test(sha))) bad('installedSha256 must be 64 hex characters');
  return {
    device: {
      fleet: text('fleet'),
      deviceClass: text('deviceClass'),
      installedSeq: uint('installedSeq'),
      keysetVersion: uint('keysetVersion'),
      ...(d['deviceId'] !== undefined ? { deviceId: text('deviceId') } : {}),
      ...(typeof sha === 'string' ? { installedSha256: fromHex(sha) } : {}),
    },
    now: d['now'] === undefined ? undefined : uint('now'),
  };
}

/** `pinctl inspect FILE.cose --keyset KEYSET.json [--device DEVICE.json] [--now UNIX]`: one JSON object, exit 0 or 1.
 * Time: --now, else the device file's `now`, else the clock. */
export function inspect(args: ParsedArgs, io: CliIo): number {
  const [path, ...extra] = args.positional;
  if (path === undefined || extra.length > 0) throw new UsageError('inspect takes one FILE.cose');
  const keysetPath = requireFlag(args, 'keyset', 'KEYSET.json');
  const ks = keysetFromJson(readJson(keysetPath, 'keyset'));
  if (!ks.ok) throw new UsageError(`${keysetPath}: ${ks.error}`);
  const envelope = readBytes(path, 'envelope');
  const devicePath = flag(args, 'device');
  const given = args.flags.has('now') ? nowFlag(args) : undefined;
  let result;
  if (devicePath !== undefined) {
    const { device, now } = deviceFromJson(readJson(devicePath, 'device'), devicePath);
    result = checkReceipt(envelope, ks.value, device, given ?? now ?? nowFlag(args));
  } else {
    result = checkReceipt(envelope, ks.value);
    // Without a device the time checks of SPEC §4 still apply: an envelope no device would accept today is
    // refused here too (against --now, else the clock), so nobody uploads a set that is already dead.
    if (result.ok) {
      const t = given ?? nowFlag(args);
      const p = result.pinset;
      if (p.issuedAt > t + MAX_CLOCK_SKEW_SECONDS) {
        result = { ok: false as const, code: 'E_NOT_YET' as const, detail: `issuedAt ${p.issuedAt} is more than ${MAX_CLOCK_SKEW_SECONDS} s ahead of now ${t}` };
      } else if (t > p.notAfter) {
        result = { ok: false as const, code: 'E_EXPIRED' as const, detail: `now ${t} is after notAfter ${p.notAfter}` };
      }
    }
  }
  if (!result.ok) {
    io.out(JSON.stringify({ ok: false, error: result.code, detail: result.detail }));
    return EXIT_REFUSED;
  }
  io.out(
    JSON.stringify({
      ok: true,
      pinset: pinSetToJson(result.pinset),
      sha256: toHex(result.sha256),
      ...(devicePath !== undefined ? { idempotent: result.idempotent } : {}),
    }),
  );
  return EXIT_OK;
}
