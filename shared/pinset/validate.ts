import { compareBytes } from '../bytes';
import { PIN_BYTES } from '../pins/pin';
import { MAX_HOSTS, MAX_PINS_PER_HOST, MIN_ENFORCED_PINS, PINSET_FORMAT, type PinSet } from './model';

const utf8 = new TextEncoder();
const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;

/** SPEC §2 "lower-case DNS name": LDH labels, at most 253 characters, no trailing dot. */
export function isDnsName(name: string): boolean {
  return typeof name === 'string' && name.length > 0 && name.length <= 253 && name.split('.').every((l) => LABEL.test(l));
}

const isUint = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

function sortedUnique(items: readonly Uint8Array[]): 'ok' | 'unsorted' | 'duplicate' {
  for (let i = 1; i < items.length; i++) {
    const d = compareBytes(items[i - 1] as Uint8Array, items[i] as Uint8Array);
    if (d === 0) return 'duplicate';
    if (d > 0) return 'unsorted';
  }
  return 'ok';
}

function stringList(list: readonly string[] | undefined, what: string, problems: string[]): void {
  if (list === undefined) return;
  if (!Array.isArray(list) || list.length === 0) {
    // An empty list would read as "nobody"; SPEC §2 says absent means "all". Decision: empty is refused.
    problems.push(`target.${what} must be a non-empty list when present`);
    return;
  }
  if (!list.every((s) => typeof s === 'string' && s.length > 0)) problems.push(`target.${what} must hold non-empty strings`);
  if (new Set(list).size !== list.length) problems.push(`target.${what} has duplicates`);
}

/**
 * Every rule of SPEC §2 on the typed model. Returns the problems found, [] when the set is valid.
 * Used on decode (→ E_SCHEMA) and before signing (pinctl, API) so that a bad set is never signed.
 */
export function validatePinSet(p: PinSet): string[] {
  const problems: string[] = [];
  if (p.format !== PINSET_FORMAT) problems.push(`format must be ${PINSET_FORMAT}, got ${String(p.format)}`);
  if (!isUint(p.seq)) problems.push('seq must be an unsigned integer');
  if (!isUint(p.issuedAt)) problems.push('issuedAt must be unix seconds (unsigned integer)');
  if (!isUint(p.notAfter)) problems.push('notAfter must be unix seconds (unsigned integer)');
  else if (isUint(p.issuedAt) && p.notAfter <= p.issuedAt) problems.push('notAfter must be later than issuedAt');
  if (!isUint(p.keysetVersion)) problems.push('keysetVersion must be an unsigned integer');
  if (p.failOpenAfter !== undefined && !isUint(p.failOpenAfter)) problems.push('failOpenAfter must be unix seconds');
  if (typeof p.target?.fleet !== 'string' || p.target.fleet.length === 0) problems.push('target.fleet must be a non-empty string');
  stringList(p.target?.deviceClasses, 'deviceClasses', problems);
  stringList(p.target?.deviceIds, 'deviceIds', problems);
  if (!Array.isArray(p.hosts) || p.hosts.length < 1 || p.hosts.length > MAX_HOSTS) {
    problems.push(`hosts must hold 1..${MAX_HOSTS} hosts`);
    return problems;
  }
  const names = p.hosts.map((h) => utf8.encode(typeof h.name === 'string' ? h.name : ''));
  const order = sortedUnique(names);
  if (order === 'duplicate') problems.push('host names must be unique');
  if (order === 'unsorted') problems.push('hosts must be sorted by name bytes');
  p.hosts.forEach((h, i) => {
    const at = `hosts[${i}] (${String(h.name)})`;
    if (!isDnsName(h.name)) problems.push(`${at}: name must be a lower-case DNS name`);
    if (typeof h.includeSubdomains !== 'boolean') problems.push(`${at}: includeSubdomains must be a boolean`);
    if (typeof h.enforce !== 'boolean') problems.push(`${at}: enforce must be a boolean`);
    if (h.port !== undefined && (!isUint(h.port) || h.port < 1 || h.port > 65535)) problems.push(`${at}: port must be 1..65535`);
    if (!Array.isArray(h.pins) || h.pins.length < 1 || h.pins.length > MAX_PINS_PER_HOST) {
      problems.push(`${at}: pins must hold 1..${MAX_PINS_PER_HOST} pins`);
      return;
    }
    if (!h.pins.every((pin: unknown) => pin instanceof Uint8Array && pin.length === PIN_BYTES)) {
      problems.push(`${at}: every pin must be ${PIN_BYTES} bytes (SHA-256 of an SPKI)`);
      return;
    }
    const pinOrder = sortedUnique(h.pins);
    if (pinOrder === 'duplicate') problems.push(`${at}: pins must be unique`);
    if (pinOrder === 'unsorted') problems.push(`${at}: pins must be sorted`);
    if (h.enforce === true && h.pins.length < MIN_ENFORCED_PINS) {
      problems.push(`${at}: an enforced host needs at least ${MIN_ENFORCED_PINS} pins, the live key and a backup (rule of two)`);
    }
  });
  return problems;
}
