import { ed25519VerifyFast, type ReceiptOptions } from '../shared/index';

/**
 * How every simulated device runs the SPEC §4/§5 checks: signatures through the fast strict verifier, which gives
 * the noble reference's answers at OpenSSL speed so that the simulator is not the bottleneck of a fleet run
 * (docs/decisions.md, "Fast strict Ed25519 verification").
 */
export const DEVICE_RECEIPT_OPTIONS: ReceiptOptions = { verify: ed25519VerifyFast };
