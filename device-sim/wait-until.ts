/**
 * Polls `condition` until it returns a truthy value (returned) or the deadline passes (throws naming `what`).
 * The drill waits for conditions, never for fixed times; an error thrown by the condition is kept for the message.
 */
export async function waitUntil<T>(
  what: string,
  condition: () => T | Promise<T>,
  timeoutMs: number,
  intervalMs = 200,
  /** Extra facts for the timeout message (e.g. the device groups' counts). */
  explain: () => string = () => '',
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await condition();
      if (value) return value as NonNullable<T>;
    } catch (err) {
      last = err;
      if (err instanceof Error && err.message.startsWith('the gateway exited')) throw err;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${Math.round(timeoutMs / 1000)} s waiting for ${what}${last ? `: ${String(last)}` : ''}${explain()}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
