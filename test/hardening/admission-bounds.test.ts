/**
 * Issue 17, the bounds docs/SECURITY.md promises for connect storms, each shown directly: at most N credential
 * checks at once and at most M waiting (beyond: CONNACK 3 at once, [MQTT-3.2.2.3]); a waiting check whose client
 * has gone is dropped without running; at most K TLS handshakes at once on real sockets, the rest waiting unread in
 * arrival order. Small bounds here; the gateway's are the defaults
 * (DEFAULT_GATE 4 / 5,000, DEFAULT_TLS_ADMISSION 64), asserted too.
 */
import type { Client } from 'aedes';
import { connect as netConnect, type AddressInfo, type Socket } from 'node:net';
import { createSecureContext } from 'node:tls';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { AuthGate, DEFAULT_GATE } from '../../gateway/broker/auth-gate';
import { DeviceAdmission } from '../../gateway/broker/device-admission';
import { createAdmittedTlsServer, DEFAULT_TLS_ADMISSION, type AdmittedTlsServer } from '../../gateway/broker/tls-admission';
import { memoryLogger } from '../../gateway/logger';
import { makeCert } from '../support/tls';

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

describe('TLS handshakes', () => {
  let server: AdmittedTlsServer | null = null;
  const sockets: Socket[] = [];
  afterEach(async () => {
    for (const s of sockets) s.destroy();
    sockets.length = 0;
    server?.destroyPending();
    await new Promise<void>((ok) => (server === null ? ok() : server.server.close(() => ok())));
    server = null;
  });

  it('the gateway runs at most 64 at once, each with a 10 s timeout', () => {
    expect(DEFAULT_TLS_ADMISSION).toMatchObject({ maxHandshakes: 64, handshakeTimeoutMs: 10_000, maxWaitMs: 60_000 });
  });

  it('at most maxHandshakes run at once on real sockets; the rest wait unread; a freed slot goes to the next client still waiting', async () => {
    const cert = makeCert('localhost');
    server = createAdmittedTlsServer(createSecureContext({ key: cert.keyPem, cert: cert.certPem }), () => {}, () => false, {
      maxHandshakes: 2, handshakeTimeoutMs: 120_000, maxWaitMs: 120_000, maxWaiting: 100,
    });
    const srv = server;
    await new Promise<void>((ok) => srv.server.listen(0, '127.0.0.1', () => ok()));
    const port = (srv.server.address() as AddressInfo).port;
    // five clients that connect and never send a ClientHello: each one holds its handshake slot open
    for (let i = 0; i < 5; i++) {
      const s = netConnect(port, '127.0.0.1');
      s.on('error', () => {});
      sockets.push(s);
      await vi.waitFor(() => expect(srv.stats.handshakes + srv.stats.waiting).toBe(i + 1));
    }
    expect(srv.stats).toMatchObject({ handshakes: 2, waiting: 3 });
    // the third client (first in line) leaves, then a running one ends: the fourth gets the slot, the third is skipped
    sockets[2]!.destroy();
    sockets[0]!.destroy();
    await vi.waitFor(() => expect(srv.stats).toMatchObject({ handshakes: 2, waiting: 1 }));
    sockets[1]!.destroy();
    await vi.waitFor(() => expect(srv.stats).toMatchObject({ handshakes: 2, waiting: 0 }));
    expect(srv.stats.timedOut).toBe(0);
  });
});
