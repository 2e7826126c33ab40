import { compareBytes } from '../bytes';
import { formatPin, parsePin } from '../pins/pin';
import { err, ok, type Result } from '../result';
import type { HostPins, PinSet } from './model';
import { validatePinSet } from './validate';

/** The JSON shape people write (the vectors' `valid.pinset`): pins as `sha256/…` text. */
export interface PinSetJson {
  format: number;
  seq: number;
  issuedAt: number;
  notAfter: number;
  target: { fleet: string; deviceClasses?: string[]; deviceIds?: string[] };
  hosts: Array<{ name: string; includeSubdomains: boolean; pins: string[]; enforce: boolean; port?: number }>;
  keysetVersion: number;
  failOpenAfter?: number;
}

const HOST_KEYS = new Set(['name', 'includeSubdomains', 'pins', 'enforce', 'port']);
const TOP_KEYS = new Set(['format', 'seq', 'issuedAt', 'notAfter', 'target', 'hosts', 'keysetVersion', 'failOpenAfter']);
const TARGET_KEYS = new Set(['fleet', 'deviceClasses', 'deviceIds']);
const utf8 = new TextEncoder();

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function unknownKeys(o: Record<string, unknown>, allowed: Set<string>, where: string): string[] {
  return Object.keys(o).filter((k) => !allowed.has(k)).map((k) => `${where}: unknown field "${k}"`);
}

/**
 * Reads a pin set written by a person. Hosts are sorted by name bytes and pins by their bytes (people should
 * not have to sort base64 by hand); everything else must already satisfy SPEC §2. Returns every problem found.
 */
export function pinSetFromJson(json: unknown): Result<PinSet, string> {
  if (!isObj(json)) return err('pin set must be a JSON object');
  const problems = unknownKeys(json, TOP_KEYS, 'pin set');
  const target = json['target'];
  if (!isObj(target)) return err([...problems, 'target must be an object'].join('; '));
  problems.push(...unknownKeys(target, TARGET_KEYS, 'target'));
  const hostsIn = json['hosts'];
  if (!Array.isArray(hostsIn)) return err([...problems, 'hosts must be an array'].join('; '));
  const hosts: HostPins[] = [];
  hostsIn.forEach((h: unknown, i) => {
    if (!isObj(h)) {
      problems.push(`hosts[${i}] must be an object`);
      return;
    }
    problems.push(...unknownKeys(h, HOST_KEYS, `hosts[${i}]`));
    const pinsIn = Array.isArray(h['pins']) ? (h['pins'] as unknown[]) : [];
    if (!Array.isArray(h['pins'])) problems.push(`hosts[${i}].pins must be an array of "sha256/…" pins`);
    const pins: Uint8Array[] = [];
    for (const t of pinsIn) {
      const r = parsePin(t as string);
      if (r.ok) pins.push(r.value);
      else problems.push(`hosts[${i}]: ${r.error}`);
    }
    pins.sort(compareBytes);
    hosts.push({
      name: h['name'] as string,
      includeSubdomains: h['includeSubdomains'] as boolean,
      pins,
      enforce: h['enforce'] as boolean,
      ...(h['port'] !== undefined ? { port: h['port'] as number } : {}),
    });
  });
  hosts.sort((a, b) => compareBytes(utf8.encode(String(a.name)), utf8.encode(String(b.name))));
  const p = {
    format: json['format'],
    seq: json['seq'],
    issuedAt: json['issuedAt'],
    notAfter: json['notAfter'],
    target: {
      fleet: target['fleet'],
      ...(target['deviceClasses'] !== undefined ? { deviceClasses: target['deviceClasses'] } : {}),
      ...(target['deviceIds'] !== undefined ? { deviceIds: target['deviceIds'] } : {}),
    },
    hosts,
    keysetVersion: json['keysetVersion'],
    ...(json['failOpenAfter'] !== undefined ? { failOpenAfter: json['failOpenAfter'] } : {}),
  } as unknown as PinSet;
  problems.push(...validatePinSet(p));
  return problems.length > 0 ? err(problems.join('; ')) : ok(p);
}

export function pinSetToJson(p: PinSet): PinSetJson {
  return {
    format: p.format,
    seq: p.seq,
    issuedAt: p.issuedAt,
    notAfter: p.notAfter,
    target: {
      fleet: p.target.fleet,
      ...(p.target.deviceClasses ? { deviceClasses: [...p.target.deviceClasses] } : {}),
      ...(p.target.deviceIds ? { deviceIds: [...p.target.deviceIds] } : {}),
    },
    hosts: p.hosts.map((h) => ({
      name: h.name,
      includeSubdomains: h.includeSubdomains,
      pins: h.pins.map(formatPin),
      enforce: h.enforce,
      ...(h.port !== undefined ? { port: h.port } : {}),
    })),
    keysetVersion: p.keysetVersion,
    ...(p.failOpenAfter !== undefined ? { failOpenAfter: p.failOpenAfter } : {}),
  };
}
