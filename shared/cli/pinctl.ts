import { parseArgs } from './args';
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
  pinctl pin CERT.pem|CERT.der|KEY.pub
  pinctl pin --host HOST:PORT [--servername NAME] [--chain]
  pinctl sign PINSET.json --key KEY --out FILE.cose [--keyset KEYSET.json]
  pinctl inspect FILE.cose --keyset KEYSET.json [--device DEVICE.json] [--now UNIX]
  pinctl kill BASE.json --host HOST [--mode fail-open|unpin] --key KEY --out FILE.cose [--seq N] [--now UNIX] [--valid-days D]
      (emergency kill switch signed offline; upload with POST /api/kill-switch/envelope)

Exit status: 0 done, 1 refused (inspect: the envelope fails a SPEC §4 check; sign: the set breaks SPEC §2),
2 misuse (missing file, bad key, bad option).`;

const BOOLEAN_FLAGS = ['force', 'chain', 'help'];

/** The CLI as a function: argv without node and script, returns the exit status. */
export async function main(argv: readonly string[], io: CliIo = processIo): Promise<number> {
  const [command, ...rest] = argv;
  try {
    const args = parseArgs(rest, BOOLEAN_FLAGS);
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
