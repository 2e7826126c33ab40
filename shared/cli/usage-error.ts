/** Misuse of the CLI (missing file, bad key, bad flag): one clear line on stderr, exit status 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export const EXIT_OK = 0;
/** A verdict: the envelope was inspected and refused. */
export const EXIT_REFUSED = 1;
export const EXIT_USAGE = 2;
