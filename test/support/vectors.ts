import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { fromHex, keysetFromJson, type DeviceState, type TrustedKeyset } from '../../shared/index';

/** ../shared/vectors beside the project: the conformance vectors handed to us with SPEC.md. */
export const VECTORS_PATH = fileURLToPath(new URL('../../../shared/vectors/pinset-v1.json', import.meta.url));

export interface VectorDevice {
  fleet: string;
  deviceClass: string;
  installedSeq: number;
  installedSha256?: string;
  keysetVersion: number;
  now: number;
}

export interface Vectors {
  keyset: { version: number; keys: Array<{ kid: string; publicKey: string }> };
  valid: { pinset: unknown; payload: string; cose: string; sha256: string };
  invalid: Array<{ name: string; error: string; cose: string }>;
  contextual: Array<{ name: string; device: VectorDevice; error: string | null }>;
}

if (!existsSync(VECTORS_PATH)) {
  throw new Error(`conformance vectors not found at ${VECTORS_PATH}: the project expects ../shared/ (SPEC.md, vectors/) beside it`);
}
export const vectors: Vectors = JSON.parse(readFileSync(VECTORS_PATH, 'utf8')) as Vectors;

export function vectorKeyset(): TrustedKeyset {
  const k = keysetFromJson(vectors.keyset);
  if (!k.ok) throw new Error(k.error);
  return k.value;
}

export function vectorDevice(d: VectorDevice): { device: DeviceState; now: number } {
  return {
    device: {
      fleet: d.fleet,
      deviceClass: d.deviceClass,
      installedSeq: d.installedSeq,
      keysetVersion: d.keysetVersion,
      ...(d.installedSha256 !== undefined ? { installedSha256: fromHex(d.installedSha256) } : {}),
    },
    now: d.now,
  };
}
