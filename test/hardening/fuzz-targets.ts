/**
 * Seed-pinned fuzzing (issue 17) of every MQTT payload handler (hello, ack, report) over a real MQTT connection,
 * and of every API route that takes a body (taken from /api/openapi.json, so a new route is fuzzed without being
 * listed here) through the real app. Invariants: nothing throws out of a handler (every QoS 1 publish is
 * acknowledged, the connection stays up, no ERROR line is logged), an API answer is never 5xx, and a refused
 * request stores nothing (no audit entry, no device). Used by the suite (few cases) and `npm run fuzz` (≥ 100,000).
 */
import fc from 'fast-check';
import { decodeAck, decodeHello, decodeReport, encodeAck, encodeHello, encodeReport, topicFor } from '../../shared/index';
import { connectDevice, mqttUrl } from '../gateway/helpers/device-client';
import { api, enrol, type TestGateway } from '../gateway/helpers/test-gateway';

export interface FuzzResult {
  target: string;
  cases: number;
  ms: number;
  perSec: number;
  /** Payloads that decode as valid messages (legitimately handled and possibly stored). */
  valid?: number;
  failures: string[];
}

type Kind = 'hello' | 'ack' | 'report';

const VALID: Record<Kind, Uint8Array> = {
  hello: encodeHello({ firmware: '1.0.0', deviceClass: 'class-a', fleet: 'fleet-fz', installedSeq: 0, keysetVersion: 1, installedSha256: new Uint8Array(32) }),
  ack: encodeAck({ seq: 1, sha256: new Uint8Array(32).fill(7), status: 'applied' }),
  report: encodeReport({ host: 'api.example.com', port: 443, result: 'mismatch', servedPins: [new Uint8Array(32).fill(3)], installedSeq: 0, time: 1_700_000_000 }),
};
const DECODE: Record<Kind, (b: Uint8Array) => { ok: boolean }> = { hello: decodeHello, ack: decodeAck, report: decodeReport };

/** Random bytes, the valid message with bytes flipped / cut / grown, and random CBOR-ish maps. */
export function payloadArb(kind: Kind): fc.Arbitrary<Uint8Array> {
  const valid = VALID[kind];
  const mutated = fc
    .array(fc.tuple(fc.nat({ max: valid.length - 1 }), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 })
    .chain((flips) =>
      fc.nat({ max: valid.length }).map((cut) => {
        const b = new Uint8Array(valid);
        for (const [at, v] of flips) b[at] = v;
        return b.subarray(0, Math.max(cut, 1));
      }),
    );
  const grown = fc.uint8Array({ minLength: 1, maxLength: 64 }).map((tail) => {
    const b = new Uint8Array(valid.length + tail.length);
    b.set(valid);
    b.set(tail, valid.length);
    return b;
  });
  return fc.oneof(fc.uint8Array({ maxLength: 600 }), mutated, grown, fc.uint8Array({ minLength: 1, maxLength: 8 }).map((b) => b.map((x) => x | 0xa0)));
}

export async function fuzzMqtt(gw: TestGateway, kind: Kind, cases: number, seed: number): Promise<FuzzResult> {
  const id = `fz-${kind}-${seed}`;
  const credential = await enrol(gw, id, 'fleet-fz', 'class-a');
  const dev = await connectDevice(mqttUrl(gw), id, credential, { hello: false });
  let dropped = false;
  dev.client.on('close', () => (dropped = true));
  const errorsBefore = gw.logs.filter((l) => l.level === 'error').length;
  const failures: string[] = [];
  let valid = 0;
  const started = performance.now();
  const chunk = 200;
  for (let done = 0; done < cases && !dropped; done += chunk) {
    const payloads = fc.sample(payloadArb(kind), { seed: seed + done, numRuns: Math.min(chunk, cases - done) });
    valid += payloads.filter((p) => DECODE[kind](p).ok).length;
    const acked = await Promise.allSettled(payloads.map((p) => dev.client.publishAsync(topicFor(id, kind), Buffer.from(p), { qos: 1 })));
    const refused = acked.findIndex((a) => a.status === 'rejected');
    if (refused >= 0) failures.push(`${kind}: publish not acknowledged (seed ${seed + done}, case ${refused}): ${Buffer.from(payloads[refused]!).toString('hex')}`);
  }
  if (dropped) failures.push(`${kind}: the gateway closed the device's connection`);
  const errors = gw.logs.filter((l) => l.level === 'error').slice(errorsBefore);
  for (const e of errors.slice(0, 5)) failures.push(`${kind}: ERROR logged: ${e.message} ${JSON.stringify(e.context ?? {})}`);
  await dev.end();
  const ms = performance.now() - started;
  return { target: `mqtt ${kind}`, cases, ms: Math.round(ms), perSec: Math.round((cases * 1000) / ms), valid, failures: failures.slice(0, 10) };
}

/** A JSON body for a route: any JSON, an object with the route's own field names and hostile values, or not JSON. */
function bodyArb(fields: string[]): fc.Arbitrary<string> {
  const hostile = fc.oneof(
    fc.string({ unit: 'binary', maxLength: 40 }),
    fc.constantFrom('', '.', '..', '\u0000', '\r\n', '\u202e', '\u200b', 'a'.repeat(5000), '__proto__', 'constructor'),
    fc.double(),
    fc.integer(),
    fc.boolean(),
    fc.constant(null),
    fc.array(fc.string({ maxLength: 8 }), { maxLength: 5 }),
    fc.jsonValue({ maxDepth: 2 }),
  );
  const shaped =
    fields.length === 0
      ? fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v))
      : fc.dictionary(fc.constantFrom(...fields, 'extra', '__proto__'), hostile, { maxKeys: fields.length + 1 }).map((o) => JSON.stringify(o));
  return fc.oneof(shaped, fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)), fc.string({ unit: 'binary', maxLength: 200 }));
}

/** A route of the API that takes a body, as the OpenAPI document declares it. */
export interface BodyRoute {
  method: string;
  /** The path with its parameters filled in (`fz1`). */
  path: string;
  /** The documented path, e.g. /api/rollouts/{id}/start. */
  documented: string;
  fields: string[];
}

type OpenApiDoc = { paths: Record<string, Record<string, { requestBody?: { content: Record<string, { schema: { properties?: Record<string, unknown> } }> } }>> };

/** Every operation of /api/openapi.json with a request body, whatever its method. */
export async function apiBodyRoutes(gw: TestGateway): Promise<BodyRoute[]> {
  const doc = (await api(gw, 'GET', '/api/openapi.json')).body as OpenApiDoc;
  const out: BodyRoute[] = [];
  for (const [path, methods] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(methods)) {
      if (op.requestBody === undefined) continue;
      const schema = op.requestBody.content['application/json']?.schema;
      out.push({ method: method.toUpperCase(), path: path.replace(/\{[A-Za-z]+\}/g, 'fz1'), documented: path, fields: Object.keys(schema?.properties ?? {}) });
    }
  }
  return out;
}

export async function fuzzApiRoute(gw: TestGateway, route: BodyRoute, cases: number, seed: number): Promise<FuzzResult> {
  const failures: string[] = [];
  // every stored change is audited (enrolment, tokens, pin sets, rollouts, keysets, rotations): the newest audit id
  const marker = async () => (await api(gw, 'GET', '/api/audit?limit=1', { token: gw.adminToken })).body.items[0]?.id ?? 0;
  const errorsBefore = gw.logs.filter((l) => l.level === 'error').length;
  const started = performance.now();
  let before = await marker();
  let sampled = 0;
  let stored = 0;
  const chunk = 500;
  for (let done = 0; done < cases; done += chunk) {
    const bodies = fc.sample(bodyArb(route.fields), { seed: seed + done, numRuns: Math.min(chunk, cases - done) });
    for (const body of bodies) {
      const res = await gw.api.request(route.path, {
        method: route.method,
        headers: { authorization: `Bearer ${gw.adminToken}`, 'content-type': 'application/json' },
        body,
      });
      await res.arrayBuffer();
      if (res.status >= 500) failures.push(`${route.method} ${route.path} → ${res.status} for ${JSON.stringify(body).slice(0, 200)}`);
      else if (res.status >= 400 && failures.length < 10 && (sampled++ % 25 === 0)) {
        // a refused request stores nothing (sampled: reading the marker costs two requests)
        const after = await marker();
        if (after !== before) failures.push(`${route.method} ${route.path} → ${res.status} but something was stored for ${JSON.stringify(body).slice(0, 200)}`);
      }
      if (res.status < 400) stored += 1;
      if (res.status < 400) before = await marker();
      if (failures.length >= 10) break;
    }
  }
  const errors = gw.logs.filter((l) => l.level === 'error').slice(errorsBefore);
  for (const e of errors.slice(0, 5)) failures.push(`${route.method} ${route.path}: ERROR logged: ${e.message}`);
  const ms = performance.now() - started;
  return { target: `api ${route.method} ${route.path}`, cases, ms: Math.round(ms), perSec: Math.round((cases * 1000) / ms), valid: stored, failures: failures.slice(0, 10) };
}
