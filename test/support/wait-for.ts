import { vi } from 'vitest';

/**
 * The tests' one way to wait: `vi.waitFor` until `condition` returns a truthy value (returned), or the timeout passes
 * (throws naming `what`, with the condition's last error). Tests wait for conditions, never for fixed times.
 */
export function waitFor<T>(what: string, condition: () => T | Promise<T>, timeoutMs = 10_000, intervalMs = 10): Promise<NonNullable<T>> {
  return vi
    .waitFor(
      async () => {
        const value = await condition();
        if (!value) throw new Error(`still waiting for ${what}`);
        return value as NonNullable<T>;
      },
      { timeout: timeoutMs, interval: intervalMs },
    )
    .catch((err: unknown) => {
      throw new Error(`timed out waiting for ${what}: ${err instanceof Error ? err.message : String(err)}`);
    });
}
