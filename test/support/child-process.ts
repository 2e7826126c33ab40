/**
 * What every service harness (Mosquitto, PostgreSQL, the bench's servers, scale-local) needs of a child process:
 * whether a pid still runs, and waiting until a spawned server listens on its loopback port.
 */
import type { ChildProcess } from 'node:child_process';
import { connect } from 'node:net';

/** Whether a process with this pid exists (signal 0 sends nothing, it only checks). */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Resolves once 127.0.0.1:`port` accepts a TCP connection; throws if `child` exited first (with `onExit()`'s text,
 * e.g. the server's log) or after `attempts` tries 25 ms apart.
 */
export async function waitListening(port: number, child: ChildProcess, name: string, onExit: () => string = () => '', attempts = 400): Promise<void> {
  for (let i = 0; i < attempts; i++) {
    if (child.exitCode !== null) throw new Error(`${name} exited (${child.exitCode})${onExit() === '' ? '' : `: ${onExit()}`}`);
    const ok = await new Promise<boolean>((done) => {
      const s = connect(port, '127.0.0.1');
      s.once('connect', () => (s.destroy(), done(true)));
      s.once('error', () => done(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`${name} did not listen on ${port}`);
}
