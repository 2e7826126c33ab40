import type { ReceiptCode } from '../shared/index';

/**
 * The execution of one pin-set update on a device, as an explicit state union (SPEC §4, §6):
 *
 *   idle → received → checking → persisting → applied → verifying → verified
 *                        │            │                     └──────→ unverified(host)
 *                        └────────────┴──→ rejected(code)      (E_STORAGE when persisting fails)
 *
 * "applied" means persisted (SPEC §6); "verified" means a TLS handshake to each enforced host the device can
 * reach succeeded under the new set. An idempotent re-delivery (same bytes, SPEC §4 E_ROLLBACK note) goes
 * checking → idle-equivalent `duplicate` without writing anything. `at` fields come from the injected clock (ms).
 */
export type UpdateState =
  | { readonly kind: 'idle' }
  | { readonly kind: 'received'; readonly sha256: string; readonly at: number }
  | { readonly kind: 'checking'; readonly sha256: string; readonly at: number }
  | { readonly kind: 'persisting'; readonly sha256: string; readonly seq: number; readonly at: number }
  | { readonly kind: 'applied'; readonly sha256: string; readonly seq: number; readonly at: number }
  | { readonly kind: 'verifying'; readonly sha256: string; readonly seq: number; readonly at: number }
  | { readonly kind: 'verified'; readonly sha256: string; readonly seq: number; readonly at: number }
  | { readonly kind: 'unverified'; readonly sha256: string; readonly seq: number; readonly host: string; readonly at: number }
  | { readonly kind: 'duplicate'; readonly sha256: string; readonly seq: number; readonly at: number }
  | { readonly kind: 'rejected'; readonly sha256: string; readonly code: ReceiptCode; readonly at: number };

export type UpdateStateKind = UpdateState['kind'];
export const UPDATE_STATE_KINDS: readonly UpdateStateKind[] = [
  'idle', 'received', 'checking', 'persisting', 'applied', 'verifying', 'verified', 'unverified', 'duplicate', 'rejected',
];

export type UpdateEvent =
  | { readonly type: 'receive'; readonly sha256: string }
  | { readonly type: 'check' }
  | { readonly type: 'accept'; readonly seq: number; readonly idempotent: boolean }
  | { readonly type: 'reject'; readonly code: ReceiptCode }
  | { readonly type: 'persisted' }
  | { readonly type: 'verify'; readonly seq: number; readonly sha256: string }
  | { readonly type: 'verified' }
  | { readonly type: 'verifyFailed'; readonly host: string };

export type Transition = { readonly ok: true; readonly state: UpdateState } | { readonly ok: false; readonly error: string };

const bad = (s: UpdateState, e: UpdateEvent): Transition => ({ ok: false, error: `event "${e.type}" is not allowed in state "${s.kind}"` });

/** States from which a new envelope may be received: nothing is in flight. */
export function isSettled(s: UpdateState): boolean {
  return s.kind === 'idle' || s.kind === 'applied' || s.kind === 'verified' || s.kind === 'unverified'
    || s.kind === 'duplicate' || s.kind === 'rejected';
}

/** The pure transition function. `now` is the injected clock's milliseconds. */
export function transition(s: UpdateState, e: UpdateEvent, now: number): Transition {
  const to = (state: UpdateState): Transition => ({ ok: true, state });
  switch (e.type) {
    case 'receive':
      // A new delivery may arrive once the previous one settled; also while verifying (the device then
      // abandons verification of the older set, which the newer set supersedes).
      if (isSettled(s) || s.kind === 'verifying') return to({ kind: 'received', sha256: e.sha256, at: now });
      return bad(s, e);
    case 'check':
      if (s.kind === 'received') return to({ kind: 'checking', sha256: s.sha256, at: now });
      return bad(s, e);
    case 'accept':
      if (s.kind !== 'checking') return bad(s, e);
      if (e.idempotent) return to({ kind: 'duplicate', sha256: s.sha256, seq: e.seq, at: now });
      return to({ kind: 'persisting', sha256: s.sha256, seq: e.seq, at: now });
    case 'reject':
      // From checking (a SPEC §4 check failed, or a forced fault) or persisting (E_STORAGE).
      if (s.kind === 'checking' || s.kind === 'persisting') return to({ kind: 'rejected', sha256: s.sha256, code: e.code, at: now });
      return bad(s, e);
    case 'persisted':
      if (s.kind === 'persisting') return to({ kind: 'applied', sha256: s.sha256, seq: s.seq, at: now });
      return bad(s, e);
    case 'verify':
      // After applying, or again on a later connection while the installed set is still unverified.
      if (isSettled(s)) return to({ kind: 'verifying', sha256: e.sha256, seq: e.seq, at: now });
      return bad(s, e);
    case 'verified':
      if (s.kind === 'verifying') return to({ kind: 'verified', sha256: s.sha256, seq: s.seq, at: now });
      return bad(s, e);
    case 'verifyFailed':
      if (s.kind === 'verifying') return to({ kind: 'unverified', sha256: s.sha256, seq: s.seq, host: e.host, at: now });
      return bad(s, e);
  }
}

/** Connection state of a simulated device (progress counts per state, SPEC §6 hello on every connect). */
export type ConnState = 'offline' | 'connecting' | 'online' | 'refused' | 'stopped';
export const CONN_STATES: readonly ConnState[] = ['offline', 'connecting', 'online', 'refused', 'stopped'];
