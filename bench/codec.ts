/**
 * Codec benchmark: our sign / verify / encode+decode next to bare @noble/ed25519 and bare cbor-x in the same
 * run, so the ratios show what our layers (canonical sorting, re-encode check, schema) cost. Also the fast
 * strict verifier (ed25519VerifyFast) next to bare noble strict and bare node:crypto, and the simulator's CPU
 * per device for one delivery (receipt check + atomic persist), with either verifier.
 */
import { Decoder, Encoder } from 'cbor-x';
import * as ed from '@noble/ed25519';
import { createPrivateKey, createPublicKey, sign as nodeSign, verify as nodeVerify } from 'node:crypto';
import {
  checkReceipt, decodeCbor, ed25519VerifyFast, encodePinSet, pinSetFromCbor, signPinSet, signerKeyFromSecret, pinSetToCbor,
  type PinSet, type ReceiptOptions, type SignerKey,
} from '../shared/index';
import { DeviceStorage } from '../device-sim/device-storage';
import { DEVICE_RECEIPT_OPTIONS } from '../device-sim/receipt-options';
import { EnvelopeCheckCache } from '../device-sim/envelope-cache';
import { measure, type Measurement } from './harness';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const vectors = JSON.parse(readFileSync(new URL('../../shared/vectors/pinset-v1.json', import.meta.url), 'utf8')) as {
  valid: { pinset: unknown };
};

export async function runCodecBench(): Promise<Record<string, unknown>> {
  const { pinSetFromJson } = await import('../shared/index');
  const parsed = pinSetFromJson(vectors.valid.pinset);
  if (!parsed.ok) throw new Error(parsed.error);
  const pinset = parsed.value;
  const key = signerKeyFromSecret(new Uint8Array(32).fill(9));
  const keyset = { version: 3, publicKeys: [key.publicKey] };
  const envelope = signPinSet(pinset, key);
  const payload = encodePinSet(pinset);
  const msg = new Uint8Array(200).fill(1);
  const sig = ed.sign(msg, key.secretKey);
  const badSig = Uint8Array.from(sig);
  badSig[5] = (badSig[5] as number) ^ 1;
  const fast: ReceiptOptions = { verify: ed25519VerifyFast };

  const plain = new Encoder({ useRecords: false, mapsAsObjects: false, tagUint8Array: false, variableMapSize: true } as ConstructorParameters<typeof Encoder>[0]);
  const plainDec = new Decoder({ useRecords: false, mapsAsObjects: false });
  const asMap = pinSetToCbor(pinset);

  const nodePriv = createPrivateKey({ key: Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), Buffer.from(key.secretKey)]), format: 'der', type: 'pkcs8' });
  const nodePub = createPublicKey(nodePriv);

  console.log(`pin set: ${payload.length} bytes payload, ${envelope.length} bytes envelope`);
  const r: Measurement[] = [
    measure('ours: signPinSet (encode + Ed25519 sign)', () => signPinSet(pinset, key)),
    measure('bare @noble/ed25519 sign', () => ed.sign(msg, key.secretKey)),
    measure('node:crypto Ed25519 sign', () => nodeSign(null, msg, nodePriv)),
    measure('ours: checkReceipt (full context-free verify)', () => checkReceipt(envelope, keyset)),
    measure('bare @noble/ed25519 verify (strict)', () => ed.verify(sig, msg, key.publicKey, { zip215: false })),
    measure('node:crypto Ed25519 verify', () => nodeVerify(null, msg, nodePub, Buffer.from(sig))),
    measure('ours: ed25519VerifyFast (valid signature)', () => ed25519VerifyFast(sig, msg, key.publicKey)),
    measure('ours: ed25519VerifyFast (invalid: + noble tie-break)', () => ed25519VerifyFast(badSig, msg, key.publicKey)),
    measure('ours: checkReceipt with ed25519VerifyFast', () => checkReceipt(envelope, keyset, undefined, undefined, fast)),
    measure('ours: encodePinSet + decode + schema', () => {
      const b = encodePinSet(pinset);
      const d = decodeCbor(b);
      return d.ok ? pinSetFromCbor(d.value) : d;
    }),
    measure('bare cbor-x encode + decode (same map)', () => plainDec.decode(plain.encode(asMap))),
  ];
  const by = (n: string) => r.find((m) => m.name.startsWith(n))?.opsPerSec ?? NaN;
  const ratios = {
    signVsBareNoble: +(by('ours: sign') / by('bare @noble/ed25519 sign')).toFixed(3),
    verifyVsBareNoble: +(by('ours: checkReceipt') / by('bare @noble/ed25519 verify')).toFixed(3),
    codecVsBareCborX: +(by('ours: encodePinSet') / by('bare cbor-x')).toFixed(3),
    nodeVerifyVsNoble: +(by('node:crypto Ed25519 verify') / by('bare @noble/ed25519 verify')).toFixed(3),
    fastVerifyVsNoble: +(by('ours: ed25519VerifyFast (valid') / by('bare @noble/ed25519 verify')).toFixed(3),
    fastVerifyVsBareNode: +(by('ours: ed25519VerifyFast (valid') / by('node:crypto Ed25519 verify')).toFixed(3),
    fastInvalidVsNoble: +(by('ours: ed25519VerifyFast (invalid') / by('bare @noble/ed25519 verify')).toFixed(3),
    checkReceiptFastVsNoble: +(by('ours: checkReceipt with ed25519VerifyFast') / by('ours: checkReceipt (full')).toFixed(3),
  };
  console.log('ratios', ratios);
  const simulatorPerDevice = {
    fastVerifier: await simulatorCpuPerDevice(pinset, key, DEVICE_RECEIPT_OPTIONS),
    nobleVerifier: await simulatorCpuPerDevice(pinset, key, {}),
  };
  console.log('simulator per device', simulatorPerDevice);
  return { payloadBytes: payload.length, envelopeBytes: envelope.length, measurements: r, ratios, simulatorPerDevice };
}

/**
 * The device side of one delivery, for N devices in one process (as one device-sim worker runs them): load the
 * stored state (first boot: factory set, memoized check), run the full SPEC §4 receipt check of a new set with
 * the device's context, persist it atomically (write, fsync, rename, fsync dir). process.cpuUsage() around the
 * loop gives CPU (user + system) per device; MQTT and TLS are not included (bench/fleet.ts has the whole chain).
 */
async function simulatorCpuPerDevice(pinset: PinSet, key: SignerKey, options: ReceiptOptions): Promise<Record<string, number>> {
  const N = 2_000;
  const dir = mkdtempSync(join(tmpdir(), 'pingw-bench-device-'));
  try {
    const keyset = { version: pinset.keysetVersion, publicKeys: [key.publicKey] };
    const factory = { keyset, envelope: signPinSet(pinset, key) };
    const next = signPinSet({ ...pinset, seq: pinset.seq + 1 }, key);
    const now = pinset.issuedAt + 60;
    const cache = new EnvelopeCheckCache();
    const storages = Array.from({ length: N }, (_, i) => new DeviceStorage(dir, `dev-${i}`, factory, { cache }));
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    let applied = 0;
    for (const storage of storages) {
      const { state } = await storage.load();
      const r = checkReceipt(next, state.keyset, {
        deviceId: storage.deviceId, fleet: pinset.target.fleet, deviceClass: pinset.target.deviceClasses?.[0] ?? 'any',
        installedSeq: state.seq, keysetVersion: state.keyset.version,
        ...(state.sha256 !== undefined ? { installedSha256: state.sha256 } : {}),
      }, now, options);
      if (!r.ok) throw new Error(`bench delivery rejected: ${r.code} ${r.detail}`);
      await storage.save({ ...state, envelope: next, pinset: r.pinset, seq: r.pinset.seq, sha256: r.sha256, verified: false });
      applied++;
    }
    const wallMs = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    const cpuMs = (cpu.user + cpu.system) / 1000;
    return {
      devices: applied,
      cpuMsPerDevice: +(cpuMs / applied).toFixed(3),
      userMsPerDevice: +(cpu.user / 1000 / applied).toFixed(3),
      systemMsPerDevice: +(cpu.system / 1000 / applied).toFixed(3),
      wallMsPerDevice: +(wallMs / applied).toFixed(3),
      devicesPerCpuSecond: Math.round((applied * 1000) / cpuMs),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
