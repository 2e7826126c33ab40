import { type OptionSpec, parseArgs } from './args';
import { inspect } from './commands/inspect';
import { keygen } from './commands/keygen';
import { keyset } from './commands/keyset';
import { kill } from './commands/kill';
import { pin } from './commands/pin';
import { sign } from './commands/sign';
import { type CliIo, processIo } from './io';
import { EXIT_OK, EXIT_USAGE, UsageError } from './usage-error';

const HELP = `pinctl: signed pin sets for firmware teams (SPEC format 1)

  pinctl keygen --out DIR [--name signer] [--force]
  pinctl keyset --version N SIGNER.pub BACKUP.pub… [--out KEYSET.json]
  pinctl keyset --version N NEW.pub… --out KEYSET.json --sign-with KEY --current CURRENT.json
                --envelope KEYSET.cose [--request ROTATE.json] [--now UNIX]
  pinctl pin CERT.pem|CERT.der|KEY.pub
  pinctl pin --host HOST:PORT [--servername NAME] [--chain]
  pinctl sign PINSET.json --key KEY --out FILE.cose [--keyset KEYSET.json] [--now UNIX]
  pinctl inspect FILE.cose --keyset KEYSET.json [--device DEVICE.json] [--now UNIX]
  pinctl kill BASE.json --host HOST [--mode fail-open|unpin] --key KEY --out FILE.cose [--seq N] [--now UNIX] [--valid-days D]
      (emergency kill switch signed offline; upload with POST /api/kill-switch/envelope)

The second keyset form signs keyset v(N) offline with a key of the current keyset (SPEC §5), e.g. the backup
signer; upload ROTATE.json with POST /api/keysets/rotate. --now defaults to the clock: inspect refuses an
expired envelope (E_EXPIRED) with or without --device, sign refuses a set whose notAfter has passed.

Exit status: 0 done, 1 refused (inspect: the envelope fails a SPEC §4 check; sign: the set breaks SPEC §2 or
has expired; keyset: the signing key is not in the current keyset), 2 misuse (missing file, bad key, unknown option).`;

/** The options each command knows; anything else is "unknown option". */
const OPTIONS: Record<string, OptionSpec> = {
  keygen: { values: ['out', 'name'], booleans: ['force'] },
  keyset: { values: ['version', 'out', 'sign-with', 'current', 'envelope', 'request', 'now'] },
  pin: { values: ['host', 'servername', 'timeout'], booleans: ['chain'] },
  sign: { values: ['key', 'out', 'keyset', 'now'] },
  inspect: { values: ['keyset', 'device', 'now'] },
  kill: { values: ['host', 'mode', 'key', 'out', 'seq', 'now', 'valid-days'] },
};

/** The CLI as a function: argv without node and script, returns the exit status. */
export async function main(argv: readonly string[], io: CliIo = processIo): Promise<number> {
  const [command, ...rest] = argv;
  try {
    if (command !== undefined && rest.includes('--help')) {
      io.out(HELP);
      return EXIT_OK;
    }
    const spec = command === undefined ? undefined : OPTIONS[command];
    const args = spec === undefined ? { positional: [], flags: new Map() } : parseArgs(rest, spec);
    switch (command) {
      case 'keygen':
        return keygen(args, io);
      case 'keyset':
        return keyset(args, io);
      case 'pin':
        return await pin(args, io);
      case 'sign':
        return sign(args, io);
      case 'inspect':
        return inspect(args, io);
      case 'kill':
        return kill(args, io);
      case undefined:
      case 'help':
      case '--help':
        io.out(HELP);
        return command === undefined ? EXIT_USAGE : EXIT_OK;
      default:
        throw new UsageError(`unknown command "${command}" (try: pinctl help)`);
    }
  } catch (e) {
    if (e instanceof UsageError) {
      io.err(`pinctl: ${e.message}`);
      return EXIT_USAGE;
    }
    io.err(`pinctl: internal error: ${(e as Error).message}`);
    return EXIT_USAGE;
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.exitCode = await main(process.argv.slice(2));
}
