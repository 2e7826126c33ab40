import { checkReceipt, envelopeSha256, toHex, type ReceiptResult, type TrustedKeyset } from '../shared/index';
import { DEVICE_RECEIPT_OPTIONS } from './receipt-options';

/**
 * A per-process memo of the context-free SPEC §4 checks (E_SIZE … E_SCHEMA) of envelopes read back from disk.
 *
 * Why: at start-up every simulated device re-checks its stored envelope (corruption detection). Thousands of
 * devices in one worker hold the same few envelopes; even the fast strict verifier (ed25519VerifyFast, OpenSSL)
 * costs ~0.1 ms per envelope, and the memo makes a start-up of thousands of devices cost a handful of checks.
 * The memo key is SHA-256 of the exact bytes plus the exact trusted keys, so a hit means "these very bytes
 * were verified under these very keys": the result is the same as re-running the pure check. Deliveries over
 * MQTT are never memoized: each device runs the full checkReceipt itself, as firmware would (see
 * docs/decisions-device-sim.md).
 * The cached PinSet objects are shared between devices, which also keeps per-device memory small.
 */
export class EnvelopeCheckCache {
  private readonly entries = new Map<string, ReceiptResult>();
  hits = 0;
  misses = 0;

  constructor(private readonly max = 256) {}

  check(envelope: Uint8Array, keyset: TrustedKeyset): ReceiptResult {
    const key = `${toHex(envelopeSha256(envelope))}|${keyset.version}|${keyset.publicKeys.map(toHex).join(',')}`;
    const hit = this.entries.get(key);
    if (hit !== undefined) {
      this.hits++;
      return hit;
    }
    this.misses++;
    const result = checkReceipt(envelope, keyset, undefined, undefined, DEVICE_RECEIPT_OPTIONS);
    if (this.entries.size >= this.max) {
      const oldest = this.entries.keys().next();
      if (oldest.done !== true) this.entries.delete(oldest.value);
    }
    this.entries.set(key, result);
    return result;
  }
}

export const defaultEnvelopeCache = new EnvelopeCheckCache();
