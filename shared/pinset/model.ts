/** SPEC §2: the typed pin-set document. Integer CBOR keys are given next to each field. */
export interface PinSetTarget {
  /** 1 */ readonly fleet: string;
  /** 2: absent means every device class. */ readonly deviceClasses?: readonly string[];
  /** 3: absent means every device. */ readonly deviceIds?: readonly string[];
}

export interface HostPins {
  /** 1: lower-case DNS name. */ readonly name: string;
  /** 2 */ readonly includeSubdomains: boolean;
  /** 3: SHA-256 SPKI pins, 32 bytes each, sorted, unique, 1..16. */ readonly pins: readonly Uint8Array[];
  /** 4 */ readonly enforce: boolean;
  /** 5 */ readonly port?: number;
}

export interface PinSet {
  /** 1 */ readonly format: 1;
  /** 2: strictly increasing per fleet. */ readonly seq: number;
  /** 3: unix seconds. */ readonly issuedAt: number;
  /** 4: a device refuses to install it after this time. */ readonly notAfter: number;
  /** 5 */ readonly target: PinSetTarget;
  /** 6: 1..64 hosts sorted by name bytes. */ readonly hosts: readonly HostPins[];
  /** 7 */ readonly keysetVersion: number;
  /** 8: pin enforcement expiry (fail-open). */ readonly failOpenAfter?: number;
}

export const PINSET_FORMAT = 1;
export const PINSET_CONTENT_TYPE = 'application/pinset+cbor';
export const MAX_HOSTS = 64;
export const MAX_PINS_PER_HOST = 16;
/** The rule of two (SPEC §2): an enforced host carries the live key and a backup. */
export const MIN_ENFORCED_PINS = 2;
