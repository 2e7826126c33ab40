import { chmodSync, closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';

/** Writes a file readable by its owner only (0600): write to a temp file, fsync, rename. */
export function writeSecretFile(path: string, content: string): void {
  const tmp = `${path}.${process.pid}.tmp`;
  const fd = openSync(tmp, 'w', 0o600);
  try {
    writeSync(fd, content);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  chmodSync(tmp, 0o600);
  renameSync(tmp, path);
}

/** Reads a secret text file, or returns null when it does not exist. */
export function readSecretFile(path: string): string | null {
  if (!existsSync(path)) return null;
  return readFileSync(path, 'utf8').trim();
}
