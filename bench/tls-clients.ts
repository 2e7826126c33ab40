/**
 * Client processes of `npm run bench -- tls` (run with `node --input-type=module -e`, in the repo root so that
 * `mqtt` resolves): their CPU is never the server's.
 */

/**
 * HANDSHAKES: LANES connections in flight for DURATION_MS; each connects, completes its handshake and closes.
 * MODE=full offers no session; MODE=resumed offers the session ticket the lane's previous connection received
 * (as a device keeps its last ticket in RAM), after one full handshake per lane to get the first ticket.
 * Prints one JSON line: {handshakes, resumed, errors, protocol, clientCpuSeconds} (the device side's cost).
 */
export const HANDSHAKES = `
import { connect } from 'node:tls';
const port = Number(process.env.PORT), lanes = Number(process.env.LANES), until = Date.now() + Number(process.env.DURATION_MS);
const resumedMode = process.env.MODE === 'resumed';
let handshakes = 0, resumed = 0, errors = 0, protocol = null;
const once = (session, count) => new Promise((resolve) => {
  const s = connect({ host: '127.0.0.1', port, servername: 'localhost', rejectUnauthorized: false, ...(session ? { session } : {}) });
  let ticket = null, secure = false, finished = false, timer;
  const finish = (ok) => {
    if (finished) return;
    finished = true;
    clearTimeout(timer);
    if (count) { if (ok) { handshakes++; if (s.isSessionReused()) resumed++; } else errors++; }
    s.destroy();
    resolve(ticket ?? session);
  };
  s.on('session', (t) => { ticket = t; if (secure) finish(true); });
  s.once('secureConnect', () => {
    secure = true;
    protocol = s.getProtocol();
    // TLS 1.3 tickets come after the handshake: a resuming client waits for its next one (at most 50 ms)
    if (!resumedMode || ticket !== null) return finish(true);
    timer = setTimeout(() => finish(true), 50);
  });
  s.on('error', () => finish(false));
  s.on('close', () => finish(secure));
});
const lane = async () => {
  let session = resumedMode ? await once(undefined, false) : undefined;
  while (Date.now() < until) session = await once(resumedMode ? session : undefined, true) ?? session;
};
const cpu0 = process.cpuUsage();
await Promise.all(Array.from({ length: lanes }, lane));
const cpu = process.cpuUsage(cpu0);
console.log(JSON.stringify({ handshakes, resumed, errors, protocol, clientCpuSeconds: (cpu.user + cpu.system) / 1e6 }));
`;

/**
 * HOLD: opens COUNT connections (LANES at a time) and keeps them: KIND=tls plain TLS connections, KIND=mqtt MQTT
 * 3.1.1 sessions over TLS (credentials from CREDS_FILE, else anonymous), keepalive 10 min. Prints
 * "held N failed F" once all are settled, then waits for SIGTERM.
 */
export const HOLD = `
import { connect } from 'node:tls';
import { readFileSync } from 'node:fs';
import mqtt from 'mqtt';
const port = Number(process.env.PORT), count = Number(process.env.COUNT), lanes = Number(process.env.LANES);
const creds = process.env.CREDS_FILE ? JSON.parse(readFileSync(process.env.CREDS_FILE, 'utf8')) : null;
const held = [];
let failed = 0, next = 0;
const openOne = (i) => new Promise((resolve) => {
  if (process.env.KIND === 'tls') {
    const s = connect({ host: '127.0.0.1', port, servername: 'localhost', rejectUnauthorized: false });
    s.once('secureConnect', () => { held.push(s); resolve(); });
    s.on('error', () => { failed++; resolve(); });
    return;
  }
  const id = creds ? creds[i].deviceId : 'hold-' + i;
  const c = mqtt.connect('mqtts://127.0.0.1:' + port, { rejectUnauthorized: false, clientId: id, username: id,
    ...(creds ? { password: creds[i].credential } : {}), protocolVersion: 4, keepalive: 600, reconnectPeriod: 0, connectTimeout: 120000 });
  c.once('connect', () => { held.push(c); resolve(); });
  c.once('error', () => { failed++; c.end(true); resolve(); });
  c.once('close', () => resolve());
});
const lane = async () => { while (next < count) await openOne(next++); };
await Promise.all(Array.from({ length: lanes }, lane));
console.log('held ' + held.length + ' failed ' + failed);
process.on('SIGTERM', () => process.exit(0));
setInterval(() => {}, 60000);
`;
