import { open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/**
 * SPEC §4: "the new set is written atomically (write, fsync, rename)". The sequence, as firmware on a
 * journaling file system does it:
 *   1. write the bytes to `<name>.tmp` in the same directory (same file system, so rename is atomic),
 *   2. fsync the temp file (its data is on disk before it can become visible under the real name),
 *   3. rename over the real name (POSIX rename(2) replaces atomically: readers see the old or the new file),
 *   4. fsync the directory (the rename itself is durable).
 * A crash before 3 leaves the old file intact and a stale temp file, which `load` removes.
 */
export interface AtomicWriteHooks {
  /** Called after step 2 and before step 3: the crash fault throws here ("crash between receipt and persist"). */
  readonly afterTempWritten?: (tempPath: string) => void | Promise<void>;
}

export interface AtomicWriteOptions {
  /** fsync steps 2 and 4; only large benchmark runs on slow disks turn this off (documented there). */
  readonly fsync?: boolean;
  readonly hooks?: AtomicWriteHooks;
}

export function tempPathFor(path: string): string {
  return join(dirname(path), `${basename(path)}.tmp`);
}

export async function writeFileAtomic(path: string, bytes: Uint8Array, opts: AtomicWriteOptions = {}): Promise<void> {
  const durable = opts.fsync !== false;
  const tmp = tempPathFor(path);
  const fh = await open(tmp, 'w', 0o600);
  try {
    await fh.writeFile(bytes);
    if (durable) await fh.sync();
  } finally {
    await fh.close();
  }
  if (opts.hooks?.afterTempWritten !== undefined) await opts.hooks.afterTempWritten(tmp);
  await rename(tmp, path);
  if (durable) await fsyncDir(dirname(path));
}

async function fsyncDir(dir: string): Promise<void> {
  const d = await open(dir, 'r');
  try {
    await d.sync();
  } finally {
    await d.close();
  }
}

/** Removes a temp file a crash left behind (it is never read: it may be half-written). */
export async function removeStaleTemp(path: string): Promise<boolean> {
  try {
    await rm(tempPathFor(path));
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw e;
  }
}
