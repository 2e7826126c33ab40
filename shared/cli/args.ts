import { UsageError } from './usage-error';

export interface ParsedArgs {
  readonly positional: readonly string[];
  readonly flags: ReadonlyMap<string, string | true>;
}

/** The options one command knows: those that take a value and those that take none. */
export interface OptionSpec {
  readonly values: readonly string[];
  readonly booleans?: readonly string[];
}

/**
 * `--name value`, `--name=value` and bare `--flag`. An option the command does not know is "unknown option"
 * before anything else (never "needs a value": the user mistyped a name, not forgot a value).
 */
export function parseArgs(argv: readonly string[], spec: OptionSpec): ParsedArgs {
  const booleans = spec.booleans ?? [];
  const positional: string[] = [];
  const flags = new Map<string, string | true>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (!a.startsWith('--')) {
      positional.push(a);
      continue;
    }
    const eq = a.indexOf('=');
    const name = a.slice(2, eq === -1 ? undefined : eq);
    if (!spec.values.includes(name) && !booleans.includes(name)) throw new UsageError(`unknown option --${name}`);
    if (eq !== -1) flags.set(name, a.slice(eq + 1));
    else if (booleans.includes(name)) flags.set(name, true);
    else {
      const v = argv[i + 1];
      if (v === undefined || v.startsWith('--')) throw new UsageError(`--${name} needs a value`);
      flags.set(name, v);
      i++;
    }
  }
  return { positional, flags };
}

export function flag(args: ParsedArgs, name: string): string | undefined {
  const v = args.flags.get(name);
  if (v === true) throw new UsageError(`--${name} needs a value`);
  return v;
}

export function requireFlag(args: ParsedArgs, name: string, what: string): string {
  const v = flag(args, name);
  if (v === undefined) throw new UsageError(`missing --${name} ${what}`);
  return v;
}

/** `--now UNIX` when given, else the clock: unix seconds. */
export function nowFlag(args: ParsedArgs, clock: () => number = Date.now): number {
  const v = flag(args, 'now');
  if (v === undefined) return Math.floor(clock() / 1000);
  if (!/^\d+$/.test(v)) throw new UsageError('--now must be unix seconds');
  return Number(v);
}
