import { readFile } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import mqtt, { type MqttClient } from 'mqtt';
import { keysetFromJson, topicFor, type DeviceState, type TrustedKeyset } from '../shared/index';
import { DeviceStorage } from './device-storage';
import { loadIdentities } from './identities';
import { deviceVerdict, rogueEnvelopes, type CapturedEnvelopes, type RogueEnvelope } from './rogue-envelopes';

/**
 * Rogue-publisher mode: with a stolen device credential, try what an attacker on the broker would try
 * (SPEC §6: a device publishes only on its own hello/ack/report topics and subscribes only to its own
 * update/keyset topics), then show what a device answers to hostile envelopes (SPEC §4) even if one got
 * through. Prints a table of attempt → expected → outcome.
 *
 * MQTT 3.1.1 has no negative PUBACK: a broker refuses a publish by closing the connection ([MQTT-3.3.5-2]
 * lets it skip delivery; aedes closes), and a subscription by the SUBACK return code 0x80 ([MQTT-3.9.3-2]).
 */
export interface RogueTarget {
  readonly url: string; // mqtts://address:port
  readonly servername: string;
  readonly deviceId: string; // the identity the rogue stole
  readonly credential: string;
  readonly victimId: string;
  readonly timeoutMs?: number;
  /**
   * The broker grants what it will not deliver and PUBACKs what it drops, instead of refusing (Mosquitto with
   * `pattern` ACLs: SUBACK granted, filtered at delivery; an MQTT 3.1.1 publish PUBACKed and not forwarded; the
   * client id replaced by the user name). Such outcomes are then the expected ones, and whoever runs the rogue checks
   * their effect (nothing reaches the victim or the gateway), as test/device-sim/rogue.test.ts does.
   */
  readonly brokerFilters?: boolean;
}

export interface AttemptRow {
  readonly attempt: string;
  readonly expected: string;
  readonly outcome: string;
  /** The outcome is the refusal that was expected. */
  readonly refused: boolean;
}

async function session(t: RogueTarget, over: { clientId?: string; password?: string } = {}): Promise<MqttClient> {
  return mqtt.connectAsync(t.url, {
    clientId: over.clientId ?? t.deviceId, username: t.deviceId, password: over.password ?? t.credential,
    servername: t.servername, rejectUnauthorized: false, reconnectPeriod: 0, clean: true, connectTimeout: t.timeoutMs ?? 5000,
  });
}

async function tryConnect(t: RogueTarget, over: { clientId?: string; password?: string }): Promise<string> {
  try {
    const c = await session(t, over);
    await c.endAsync();
    return 'ACCEPTED';
  } catch (e) {
    return `refused (${(e as Error).message})`;
  }
}

async function trySubscribe(t: RogueTarget, topic: string): Promise<string> {
  const c = await session(t);
  try {
    const granted = await c.subscribeAsync(topic, { qos: 1 });
    const qos = granted[0]?.qos;
    return qos === 128 ? 'refused (SUBACK 0x80)' : `GRANTED qos ${String(qos)}`;
  } catch (e) {
    // mqtt.js turns a SUBACK return code 0x80 into "Subscribe error".
    return /Subscribe error/.test((e as Error).message) ? 'refused (SUBACK 0x80)' : `refused (${(e as Error).message})`;
  } finally {
    await c.endAsync(true).catch(() => undefined);
  }
}

async function tryPublish(t: RogueTarget, topic: string, payload: Uint8Array): Promise<string> {
  const c = await session(t);
  const closed = new Promise<string>((resolve) => c.once('close', () => resolve('refused (broker closed the connection)')));
  const acked = c.publishAsync(topic, Buffer.from(payload), { qos: 1 }).then(
    () => 'ACCEPTED (PUBACK)',
    (e: Error) => `refused (${e.message})`,
  );
  const timeout = new Promise<string>((resolve) => setTimeout(() => resolve('no PUBACK (dropped)'), t.timeoutMs ?? 5000).unref());
  const outcome = await Promise.race([closed, acked, timeout]);
  await c.endAsync(true).catch(() => undefined);
  return outcome;
}

/** The broker-side attempts. Each runs on a fresh connection since a refused publish ends the session. */
export async function brokerAttempts(t: RogueTarget, sample: Uint8Array): Promise<AttemptRow[]> {
  const rows: AttemptRow[] = [];
  const refused = (outcome: string) => outcome.startsWith('refused') || outcome.startsWith('no PUBACK');
  // what a filtering broker answers instead of a refusal (RogueTarget.brokerFilters), and how the table says it
  const filtered = {
    connect: ['ACCEPTED', 'accepted as its own id'],
    subscribe: ['GRANTED', 'granted, filtered at delivery'],
    publish: ['ACCEPTED (PUBACK)', 'PUBACKed, dropped'],
  } as const;
  const row = (attempt: string, outcome: string, kind: 'auth' | keyof typeof filtered) => {
    const alt = t.brokerFilters === true && kind !== 'auth' ? filtered[kind] : null;
    const expected = alt === null ? 'refused' : `refused, or ${alt[1]}`;
    rows.push({ attempt, expected, outcome, refused: refused(outcome) || (alt !== null && outcome.startsWith(alt[0])) });
  };
  const v = t.victimId;
  row('connect with a wrong password', await tryConnect(t, { password: `${t.credential}x` }), 'auth');
  row(`connect as client id ${v} with own credential`, await tryConnect(t, { clientId: v }), 'connect');
  row("subscribe '#'", await trySubscribe(t, '#'), 'subscribe');
  row("subscribe 'pins/v1/+/update'", await trySubscribe(t, 'pins/v1/+/update'), 'subscribe');
  row(`subscribe ${topicFor(v, 'update')}`, await trySubscribe(t, topicFor(v, 'update')), 'subscribe');
  row(`subscribe ${topicFor(v, 'ack')}`, await trySubscribe(t, topicFor(v, 'ack')), 'subscribe');
  row(`publish envelope on ${topicFor(v, 'update')}`, await tryPublish(t, topicFor(v, 'update'), sample), 'publish');
  row(`publish envelope on own ${topicFor(t.deviceId, 'update')}`, await tryPublish(t, topicFor(t.deviceId, 'update'), sample), 'publish');
  row(`publish keyset on ${topicFor(v, 'keyset')}`, await tryPublish(t, topicFor(v, 'keyset'), sample), 'publish');
  row(`spoof ${topicFor(v, 'ack')}`, await tryPublish(t, topicFor(v, 'ack'), new Uint8Array([0xa0])), 'publish');
  row(`spoof ${topicFor(v, 'hello')}`, await tryPublish(t, topicFor(v, 'hello'), new Uint8Array([0xa0])), 'publish');
  return rows;
}

/** The device-side attempts: the victim's own SPEC §4 check on each hostile envelope. */
export function envelopeAttempts(c: CapturedEnvelopes, keyset: TrustedKeyset, device: DeviceState, nowSec: number): AttemptRow[] {
  return rogueEnvelopes(c).map((e: RogueEnvelope) => {
    const outcome = deviceVerdict(e, keyset, device, nowSec);
    return { attempt: `device receives: ${e.name}`, expected: `rejected ${e.expected}`, outcome, refused: outcome === `rejected ${e.expected}` };
  });
}

export function formatTable(rows: readonly AttemptRow[]): string {
  const head: AttemptRow = { attempt: 'attempt', expected: 'expected', outcome: 'outcome', refused: true };
  const all = [head, ...rows];
  const w = (k: 'attempt' | 'expected' | 'outcome') => Math.max(...all.map((r) => r[k].length));
  const line = (r: AttemptRow) =>
    `${r.attempt.padEnd(w('attempt'))}  ${r.expected.padEnd(w('expected'))}  ${r.outcome.padEnd(w('outcome'))}  ${r === head ? 'ok?' : r.refused ? 'ok' : 'FAIL'}`;
  return all.map(line).join('\n');
}

/** CLI: tsx device-sim/rogue.ts --mqtt mqtts://127.0.0.1:8883 --identities ids.json --as ID --victim ID --sample x.cose ... */
const ROGUE_USAGE = 'usage: tsx device-sim/rogue.ts --mqtt URL --identities ids.json --as DEVICE --victim DEVICE --sample genuine.cose\n'
  + '    [--older old.cose] [--expired expired.cose] [--keyset keyset.json --data SIM_DATA_DIR/devices] [--broker-host NAME]\n'
  + '    [--broker-filters]   (Mosquitto: grants/PUBACKs what it then filters; check the effect on the victim yourself)\n'
  + '  Connects as DEVICE (a real credential) and tries what a compromised device would: wrong passwords, another\n'
  + "  device's client id and topics, wildcard subscriptions, tampered/replayed/expired/wrongly-signed envelopes.\n"
  + '  Prints one row per attempt; exit 0 when every attempt was refused, 2 when one got through, 1 on misuse.\n';

async function cli(): Promise<number> {
  const argv = process.argv.slice(2);
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(ROGUE_USAGE);
    return 0;
  }
  const s = { type: 'string' } as const;
  const { values: v } = parseArgs({
    args: argv,
    options: {
      mqtt: s, 'broker-host': s, identities: s, as: s, victim: s, sample: s, older: s, expired: s, keyset: s, data: s,
      'broker-filters': { type: 'boolean' },
    },
  });
  if (v.mqtt === undefined || v.identities === undefined || v.as === undefined || v.victim === undefined || v.sample === undefined) {
    process.stderr.write(ROGUE_USAGE);
    return 1;
  }
  const ids = await loadIdentities(v.identities);
  const me = ids.find((d) => d.deviceId === v.as);
  if (me === undefined) throw new Error(`--as ${v.as} is not in ${v.identities}`);
  const url = new URL(v.mqtt);
  const sample = new Uint8Array(await readFile(v.sample));
  const rows = await brokerAttempts({
    url: v.mqtt, servername: v['broker-host'] ?? url.hostname, deviceId: me.deviceId, credential: me.credential, victimId: v.victim,
    ...(v['broker-filters'] === true ? { brokerFilters: true } : {}),
  }, sample);
  if (v.keyset !== undefined && v.data !== undefined) {
    const ks = keysetFromJson(JSON.parse(await readFile(v.keyset, 'utf8')) as unknown);
    if (!ks.ok) throw new Error(ks.error);
    const victim = ids.find((d) => d.deviceId === v.victim);
    const stored = await new DeviceStorage(v.data, v.victim, { keyset: ks.value }).load({ repair: false }); // read the victim's flash
    const device: DeviceState = {
      deviceId: v.victim, fleet: victim?.fleet ?? me.fleet, deviceClass: victim?.deviceClass ?? me.deviceClass,
      installedSeq: stored.state.seq, keysetVersion: stored.state.keyset.version,
      ...(stored.state.sha256 !== undefined ? { installedSha256: stored.state.sha256 } : {}),
    };
    const captured: CapturedEnvelopes = {
      current: sample,
      ...(v.older !== undefined ? { older: new Uint8Array(await readFile(v.older)) } : {}),
      ...(v.expired !== undefined ? { expired: new Uint8Array(await readFile(v.expired)) } : {}),
    };
    rows.push(...envelopeAttempts(captured, stored.state.keyset, device, Math.floor(Date.now() / 1000)));
  }
  process.stdout.write(`${formatTable(rows)}\n`);
  return rows.every((r) => r.refused) ? 0 : 2;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  cli().then((c) => process.exit(c), (e: unknown) => {
    process.stderr.write(`rogue: ${(e as Error).message}\n`);
    process.exit(1);
  });
}
