/**
 * Issue 17, the bounds docs/SECURITY.md promises for connect storms, each shown directly: at most N credential
 * checks at once and at most M waiting (beyond: CONNACK 3 at once, [MQTT-3.2.2.3]); a waiting check whose client
 * has gone is dropped without running. Small bounds here; the gateway's are the defaults (DEFAULT_GATE 4 / 5,000),
 * asserted too. The TLS admission's bounds are shown in test/hardening/tls-admission.test.ts.
 */
import type { Client } from 'aedes';
import { describe, expect, it, vi } from 'vitest';
import { AuthGate, DEFAULT_GATE } from '../../gateway/broker/auth-gate';
import { DeviceAdmission } from '../../gateway/broker/device-admission';
import { memoryLogger } from '../../gateway/logger';

/** A check that runs until released (the scrypt of a real check, held open). */
function heldCheck(log: string[], name: string) {
  let release = () => {};
  const run = () =>
    new Promise<void>((ok) => {
      log.push(`run ${name}`);
      release = ok;
    });
  return { run, release: () => release() };
}

describe('credential checks', () => {
  it('the gateway runs at most 4 at once and queues at most 5,000', () => {
    expect(DEFAULT_GATE).toEqual({ maxConcurrent: 4, maxQueued: 5000 });
  });

  it('at most maxConcurrent run, at most maxQueued wait, the next is refused; a gone client is dropped unrun', async () => {
    const gate = new AuthGate({ maxConcurrent: 2, maxQueued: 3 });
    const log: string[] = [];
    const gone = new Set<string>();
    const checks = ['a', 'b', 'c', 'd', 'e'].map((n) => ({ n, ...heldCheck(log, n) }));
    const dropped: string[] = [];
    const admitted = checks.map((c) => gate.submit(() => gone.has(c.n), c.run, () => dropped.push(c.n)));
    expect(admitted).toEqual([true, true, true, true, true]);
    expect(gate.inFlight).toBe(2);
    expect(gate.queued).toBe(3);
    expect(log).toEqual(['run a', 'run b']);
    // the queue is full: the sixth is refused at once
    expect(gate.submit(() => false, async () => {}, () => {})).toBe(false);
    expect(gate.refusedBusy).toBe(1);
    // c's client goes away while waiting: when a slot frees, c is dropped and d runs instead
    gone.add('c');
    checks[0]!.release();
    await vi.waitFor(() => expect(log).toEqual(['run a', 'run b', 'run d']));
    expect(dropped).toEqual(['c']);
    expect(gate.droppedGone).toBe(1);
    expect(gate.inFlight).toBe(2);
    checks[1]!.release();
    await vi.waitFor(() => expect(log.at(-1)).toBe('run e'));
    expect(gate.checked).toBe(4);
  });

  it('a CONNECT beyond the queue gets CONNACK 3 (server unavailable) at once, without its credential check', async () => {
    const clock = { now: () => 1_000 };
    const admission = new DeviceAdmission({ clock, logger: memoryLogger() }, { gate: { maxConcurrent: 1, maxQueued: 1 } });
    const held: (() => void)[] = [];
    let checks = 0;
    const auth = admission.wrap((_c, _u, _p, done) => {
      checks += 1;
      held.push(() => done(null, true));
    }, () => undefined);
    const client = (n: number) => ({ id: `d${n}`, conn: { remoteAddress: `10.0.0.${n}`, destroyed: false } }) as unknown as Client;
    const answers: (number | null)[] = [];
    for (let i = 1; i <= 3; i++) auth(client(i), `d${i}`, Buffer.from('x'), (err) => answers.push(err === null ? 0 : (err.returnCode ?? null)));
    expect(answers).toEqual([3]); // the third: one running, one waiting, none more
    expect(checks).toBe(1);
    expect(admission.stats()).toMatchObject({ refusedBusy: 1, checksInFlight: 1, checksQueued: 1 });
    held.shift()!();
    await vi.waitFor(() => expect(checks).toBe(2));
    held.shift()!();
    await vi.waitFor(() => expect(answers).toEqual([3, 0, 0]));
  });
});
