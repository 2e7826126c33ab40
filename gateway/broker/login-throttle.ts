/**
 * Credential-guessing throttle (issue 17): exponential back-off per source address and per device identity,
 * decided before any scrypt is spent. Pure bookkeeping over an injected clock (tests use fake time).
 *
 * - Per address: after `freeFailures` failed CONNECTs from one address, the next attempt from it must wait
 *   base·2^(n−free) ms (capped at maxDelayMs); attempts inside the wait are refused without a credential check.
 * - Per identity: the same back-off for a device id that keeps failing, from any address — except the address
 *   that device last logged in from successfully. That exemption is what never locks out the honest device: an
 *   attacker guessing its credential from elsewhere slows down only himself. (An honest device that moves to a
 *   new address during an attack waits at most maxDelayMs between tries; documented in docs/SECURITY.md.) The
 *   same exemption applies to the per-address throttle.
 * - A success clears the identity's failures and that address's failures.
 * State is bounded (maxEntries, oldest dropped) and forgets entries idle for longer than forgetAfterMs.
 */
export interface ThrottleOptions {
  freeFailures: number;
  baseDelayMs: number;
  maxDelayMs: number;
  forgetAfterMs: number;
  maxEntries: number;
}

export const DEFAULT_THROTTLE: ThrottleOptions = {
  freeFailures: 3,
  baseDelayMs: 250,
  maxDelayMs: 60_000,
  forgetAfterMs: 15 * 60_000,
  maxEntries: 100_000,
};

interface Entry {
  failures: number;
  lastFailureAt: number;
  blockedUntil: number;
}

export type ThrottleVerdict = { allowed: true } | { allowed: false; by: 'address' | 'identity'; retryInMs: number };

export class LoginThrottle {
  private readonly byAddress = new Map<string, Entry>();
  private readonly byIdentity = new Map<string, Entry>();
  private readonly lastGoodAddress = new Map<string, string>();
  /** Addresses some device last logged in from, with how many devices. */
  private readonly goodAddresses = new Map<string, number>();

  constructor(private readonly options: ThrottleOptions = DEFAULT_THROTTLE) {}

  check(deviceId: string, address: string, now: number): ThrottleVerdict {
    // the device from where it last logged in is never throttled (devices behind one NAT share an address with
    // whoever guesses there; the guesses still cost one bounded credential check each, see ./auth-gate.ts)
    if (this.lastGoodAddress.get(deviceId) === address) return { allowed: true };
    const a = this.live(this.byAddress, address, now);
    if (a !== undefined && now < a.blockedUntil) return { allowed: false, by: 'address', retryInMs: a.blockedUntil - now };
    const i = this.live(this.byIdentity, deviceId, now);
    if (i !== undefined && now < i.blockedUntil && this.lastGoodAddress.get(deviceId) !== address) {
      return { allowed: false, by: 'identity', retryInMs: i.blockedUntil - now };
    }
    return { allowed: true };
  }

  /**
   * Whether a new connection from `address` may be closed at once, before any MQTT is read: the address is in
   * its back-off and no device has logged in from it (so no honest device behind it can be hurt).
   */
  blockedAtAccept(address: string, now: number): boolean {
    const a = this.live(this.byAddress, address, now);
    return a !== undefined && now < a.blockedUntil && !this.goodAddresses.has(address);
  }

  failed(deviceId: string, address: string, now: number): void {
    this.bump(this.byAddress, address, now);
    this.bump(this.byIdentity, deviceId, now);
  }

  succeeded(deviceId: string, address: string): void {
    this.byIdentity.delete(deviceId);
    this.byAddress.delete(address);
    this.forgetGood(deviceId);
    this.lastGoodAddress.set(deviceId, address); // inserted last: the Map's order is the eviction order
    this.goodAddresses.set(address, (this.goodAddresses.get(address) ?? 0) + 1);
    if (this.lastGoodAddress.size > this.options.maxEntries) {
      const first = this.lastGoodAddress.keys().next();
      if (first.done !== true) this.forgetGood(first.value);
    }
  }

  private forgetGood(deviceId: string): void {
    const old = this.lastGoodAddress.get(deviceId);
    if (old === undefined) return;
    this.lastGoodAddress.delete(deviceId);
    const n = (this.goodAddresses.get(old) ?? 1) - 1;
    if (n <= 0) this.goodAddresses.delete(old);
    else this.goodAddresses.set(old, n);
  }

  private bump(map: Map<string, Entry>, key: string, now: number): void {
    const e = this.live(map, key, now) ?? { failures: 0, lastFailureAt: now, blockedUntil: 0 };
    e.failures += 1;
    e.lastFailureAt = now;
    const over = e.failures - this.options.freeFailures;
    if (over > 0) e.blockedUntil = now + Math.min(this.options.maxDelayMs, this.options.baseDelayMs * 2 ** Math.min(over - 1, 30));
    map.delete(key);
    map.set(key, e);
    if (map.size > this.options.maxEntries) this.evictOldest(map);
  }

  private live(map: Map<string, Entry>, key: string, now: number): Entry | undefined {
    const e = map.get(key);
    if (e !== undefined && now - e.lastFailureAt > this.options.forgetAfterMs && now >= e.blockedUntil) {
      map.delete(key);
      return undefined;
    }
    return e;
  }

  private evictOldest(map: Map<string, unknown>): void {
    const first = map.keys().next();
    if (first.done !== true) map.delete(first.value);
  }
}
