import { waitFor as waitForValue } from '../../support/wait-for';

/** The device-sim tests' argument order over the one test helper (vi.waitFor). */
export async function waitFor(cond: () => boolean, what: string, deadlineMs = 20_000): Promise<void> {
  await waitForValue(what, cond, deadlineMs, 20);
}
