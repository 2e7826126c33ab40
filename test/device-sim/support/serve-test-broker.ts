/**
 * A real broker for simulator runs without the gateway: Mosquitto 2 with the repo's configuration and SPEC §6 ACL
 * (deploy/mosquitto, ./device-broker.ts) plus a minimal "gateway" backend client that delivers one pin set to every device whose hello shows an older one. Writes the files
 * device-sim/main.ts needs (identities, keyset, factory envelope, CA) into --out and prints the command.
 *
 *   npx tsx test/device-sim/support/serve-test-broker.ts --devices 10000 --out /tmp/sim [--port 8883] [--deliver]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { keysetToJson } from '../../../shared/index';
import { backupPin, BROKER_HOST, DEVICE_CLASS, FLEET, makePinSet, makeSigners, sign } from './fixtures';
import { connectGateway } from './gateway-client';
import { makeCert } from './pki';
import { startDeviceBroker } from './device-broker';

const { values: v } = parseArgs({ options: { devices: { type: 'string' }, out: { type: 'string' }, port: { type: 'string' }, deliver: { type: 'boolean' } } });
const n = Number(v.devices ?? 1000);
const out = resolve(v.out ?? '/tmp/device-sim-bench');
mkdirSync(out, { recursive: true });
const signers = makeSigners();
const cert = makeCert(join(out, 'pki'), 'broker', [BROKER_HOST]);
const ids = Array.from({ length: n }, (_, i) => ({ deviceId: `sim-${String(i).padStart(5, '0')}`, credential: `c${i}-${Math.random().toString(36).slice(2)}`, fleet: FLEET, deviceClass: DEVICE_CLASS }));
writeFileSync(join(out, 'identities.json'), JSON.stringify(ids));
writeFileSync(join(out, 'keyset.json'), JSON.stringify(keysetToJson(signers.keyset)));
writeFileSync(join(out, 'factory.cose'), sign(makePinSet(1, [cert.pin, backupPin(1)]), signers.live));
const next = sign(makePinSet(2, [cert.pin, backupPin(2)]), signers.live);
writeFileSync(join(out, 'next.cose'), next);
if (v.port !== undefined) process.stderr.write('--port is ignored: Mosquitto listens on a free loopback port (printed below)\n');
const broker = await startDeviceBroker({
  certFile: cert.certFile, keyFile: cert.keyFile, devices: new Map(ids.map((d) => [d.deviceId, d.credential])),
});
const gw = await connectGateway(broker.gatewayPort, broker.gateway.username, broker.gateway.password);
const stop = () => void broker.close().then(() => process.exit(0));
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
if (v.deliver === true) gw.onHello = (id, h) => void (h.installedSeq < 2 ? gw.publishUpdate(id, next) : undefined);
process.stdout.write(`broker on mqtts://127.0.0.1:${broker.port} (${BROKER_HOST}); files in ${out}\n`
  + `npx tsx device-sim/main.ts --devices ${n} --fleet ${FLEET} --class ${DEVICE_CLASS} --mqtt mqtts://127.0.0.1:${broker.port} `
  + `--broker-host ${BROKER_HOST} --ca ${cert.certFile} --identities ${join(out, 'identities.json')} --keyset ${join(out, 'keyset.json')} `
  + `--factory ${join(out, 'factory.cose')} --workers 2 --data ${join(out, 'data')}\n`);
setInterval(() => {
  const verified = new Set(gw.acks.filter((a) => a.ack.status === 'verified' && a.ack.seq === 2).map((a) => a.deviceId)).size;
  process.stdout.write(`broker: hellos=${gw.hellos.length} verified(seq 2)=${verified} rss=${Math.round(process.memoryUsage().rss / 1048576)}MB\n`);
}, 10_000).unref();
