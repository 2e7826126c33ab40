/**
 * The MQTT/TLS listener's admission (gateway/broker/tls-admission.ts, issues 14 and 17) over real sockets: a slot
 * is held from the start of a handshake until the broker's CONNACK (settle) or the close; a client that gives up
 * while waiting for a slot costs no handshake; a waiting client's ClientHello, read while it waited, still
 * completes its handshake when its turn comes.
 */
import { connect as netConnect, type AddressInfo } from 'node:net';
import { connect, createSecureContext, type TLSSocket } from 'node:tls';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createAdmittedTlsServer, DEFAULT_TLS_ADMISSION, type AdmittedTlsServer } from '../../gateway/broker/tls-admission';
import { makeCert } from '../support/tls';

const cert = makeCert();
const context = createSecureContext({ cert: cert.certPem, key: cert.keyPem, minVersion: 'TLSv1.2' });
const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

async function listen(maxInProgress: number, handshakeTimeoutMs = 10_000, now: () => number = Date.now) {
  const secured: TLSSocket[] = [];
  const admitted = createAdmittedTlsServer(context, (s) => {
    s.on('error', () => {});
    secured.push(s);
  }, () => false, { ...DEFAULT_TLS_ADMISSION, maxInProgress, handshakeTimeoutMs }, now);
  await new Promise<void>((ok) => admitted.server.listen(0, '127.0.0.1', ok));
  cleanups.push(() => {
    admitted.destroyPending();
    for (const s of secured) s.destroy();
    admitted.server.close();
  });
  return { admitted, secured, port: (admitted.server.address() as AddressInfo).port };
}

/** A device's TLS connection; resolves once the handshake is done (false if it closed first). */
function device(port: number): { socket: TLSSocket; secure: Promise<boolean> } {
  const socket = connect({ host: '127.0.0.1', port, servername: 'localhost', rejectUnauthorized: false });
  socket.on('error', () => {});
  cleanups.push(() => socket.destroy());
  const secure = new Promise<boolean>((ok) => {
    socket.once('secureConnect', () => ok(true));
    socket.once('close', () => ok(false));
  });
  return { socket, secure };
}

const settled = (a: AdmittedTlsServer) => ({ ...a.stats });

describe('MQTT/TLS admission', () => {
  it('holds a slot until the CONNACK; a client that gave up while waiting is skipped without a handshake', async () => {
    const { admitted, secured, port } = await listen(1);
    const a = device(port);
    expect(await a.secure).toBe(true);
    await vi.waitFor(() => expect(secured).toHaveLength(1));
    expect(settled(admitted)).toMatchObject({ inProgress: 1, handshakesStarted: 1 }); // secure, but no CONNACK yet

    const b = device(port); // its ClientHello is read into the waiting buffer
    await vi.waitFor(() => expect(admitted.stats.waiting).toBe(1));
    b.socket.destroy(); // gives up while waiting
    await vi.waitFor(() => expect(admitted.stats.waiting).toBe(0));
    const c = device(port);
    await vi.waitFor(() => expect(admitted.stats.waiting).toBe(1));

    admitted.settle(secured[0]); // A's CONNACK: the slot passes on, past B, to C
    expect(await c.secure).toBe(true);
    expect(await b.secure).toBe(false);
    await vi.waitFor(() => expect(secured).toHaveLength(2));
    expect(settled(admitted)).toMatchObject({ handshakesStarted: 2, skippedGone: 1, inProgress: 1, waiting: 0, timedOut: 0 });
  });

  it('under a backlog a fresh connection is served before one that has waited past staleAfterMs; that one comes next', async () => {
    let t = 1_000_000; // the admission's clock, moved by hand
    const { admitted, secured, port } = await listen(1, 10_000, () => t);
    const a = device(port);
    expect(await a.secure).toBe(true);
    await vi.waitFor(() => expect(secured).toHaveLength(1));
    const old = device(port);
    await vi.waitFor(() => expect(admitted.stats.waiting).toBe(1));
    t += DEFAULT_TLS_ADMISSION.staleAfterMs + 1;
    const young = device(port);
    await vi.waitFor(() => expect(admitted.stats.waiting).toBe(2));
    let oldSecure = false;
    void old.secure.then((ok) => (oldSecure = ok));

    admitted.settle(secured[0]);
    expect(await young.secure).toBe(true);
    await vi.waitFor(() => expect(secured).toHaveLength(2));
    expect(oldSecure).toBe(false); // still waiting: its slot is the young one's
    expect(admitted.stats.waiting).toBe(1);
    admitted.settle(secured[1]);
    expect(await old.secure).toBe(true);
    expect(admitted.stats).toMatchObject({ handshakesStarted: 3, waiting: 0, skippedGone: 0 });
  });

  it('a slot is freed when its connection closes before a CONNACK', async () => {
    const { admitted, port } = await listen(1);
    const a = device(port);
    expect(await a.secure).toBe(true);
    const b = device(port);
    await vi.waitFor(() => expect(admitted.stats.waiting).toBe(1));
    a.socket.destroy();
    expect(await b.secure).toBe(true);
    expect(settled(admitted)).toMatchObject({ handshakesStarted: 2, skippedGone: 0 });
  });

  it('a silent connection is closed after the handshake timeout and counted; the one behind it gets its turn', async () => {
    const { admitted, port } = await listen(1, 300);
    const silent = netConnect(port, '127.0.0.1');
    silent.on('error', () => {});
    cleanups.push(() => silent.destroy());
    const closed = new Promise<void>((ok) => silent.once('close', () => ok()));
    await vi.waitFor(() => expect(admitted.stats.inProgress).toBe(1));
    const b = device(port);
    await closed;
    expect(await b.secure).toBe(true);
    expect(admitted.stats.timedOut).toBe(1);
  });

  it('a waiting client that sends more than a ClientHello before its turn is closed', async () => {
    const { admitted, port } = await listen(1);
    const a = device(port);
    expect(await a.secure).toBe(true);
    const flood = netConnect(port, '127.0.0.1', () => flood.write(Buffer.alloc(DEFAULT_TLS_ADMISSION.maxBufferedBytes + 1)));
    flood.on('error', () => {});
    cleanups.push(() => flood.destroy());
    await new Promise<void>((ok) => flood.once('close', () => ok()));
    expect(admitted.stats).toMatchObject({ expiredWaiting: 1, waiting: 0, handshakesStarted: 1 });
  });
});
