/**
 * Codec benchmark: our sign / verify / encode+decode next to bare @noble/ed25519 and bare cbor-x in the same
 * run, so the ratios show what our layers (canonical sorting, re-encode check, schema) cost.
 */
import { Decoder, Encoder } from 'cbor-x';
import * as ed from '@noble/ed25519';
import { createPrivateKey, createPublicKey, sign as nodeSign, verify as nodeVerify } from 'node:crypto';
import {
  checkReceipt, decodeCbor, encodePinSet, pinSetFromCbor, signPinSet, signerKeyFromSecret, pinSetToCbor,
} from '../shared/index';
import { measure, type Measurement } from './harness';
import { readFileSync } from 'node:fs';

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
  };
  console.log('ratios', ratios);
  return { payloadBytes: payload.length, envelopeBytes: envelope.length, measurements: r, ratios };
}
