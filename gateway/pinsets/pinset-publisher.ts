import type { AuditRepo, PinSetRepo } from '../registry/repositories';
import type { PinSetRow } from '../registry/rows';
import {
  MAX_CLOCK_SKEW_SECONDS, checkReceipt, envelopeSha256, pinSetFromJson, pinSetToJson, signPinSet, toHex,
  type PinSet, type ReceiptCode, type SignerKey,
} from '../../shared/index';
import { DomainError } from '../errors/domain-error';
import type { Clock } from '../clock';
import { liveCheck, type FetchServerPins, type LiveCheckEntry } from './live-check';
import type { PinSetDraft } from './pinset-draft';
import type { TrustedKeysets } from '../keysets/trusted-keysets';

export interface PublishedPinSet {
  id: number;
  fleet: string;
  seq: number;
  sha256: string;
  keysetVersion: number;
  liveCheck: LiveCheckEntry[];
}

/**
 * Accepts new pin sets: from JSON (signed here with the gateway's key) or as an envelope signed offline
 * (`pinctl sign`, verified against the trusted keyset). Either way the set must be the fleet's next seq, carry
 * the current keyset version, and pass the live check of its enforced hosts before it is stored.
 */
export class PinSetPublisher {
  constructor(
    private readonly deps: {
      pinsets: PinSetRepo;
      keysets: TrustedKeysets;
      audit: AuditRepo;
      /** null: no private key here (PINGW_SIGNER=offline); only envelopes signed offline are accepted. */
      signer: SignerKey | null;
      clock: Clock;
      fetchPins: FetchServerPins;
      liveCheckTimeoutMs: number;
      validityDays: number;
    },
  ) {}

  async createFromJson(draft: PinSetDraft, actor: string): Promise<PublishedPinSet> {
    const { pinsets, keysets, signer, clock, validityDays } = this.deps;
    const current = await keysets.current();
    if (signer === null) {
      throw new DomainError('E_NO_SIGNER', 'the gateway runs without a signer key (PINGW_SIGNER=offline): sign with pinctl and upload the envelope');
    }
    if (!keysets.includes(current, signer.publicKey)) {
      throw new DomainError('E_NO_SIGNER', `the gateway's signer key is not in keyset v${current.version}: upload envelopes signed offline`);
    }
    const now = Math.floor(clock.now() / 1000);
    const issuedAt = draft.issuedAt ?? now;
    const json = {
      ...draft,
      format: draft.format ?? 1,
      seq: draft.seq ?? await pinsets.maxSeq(draft.target.fleet) + 1,
      issuedAt,
      notAfter: draft.notAfter ?? issuedAt + validityDays * 86_400,
      keysetVersion: draft.keysetVersion ?? current.version,
    };
    const parsed = pinSetFromJson(json);
    if (!parsed.ok) throw new DomainError('E_SCHEMA', parsed.error);
    const pinset = parsed.value;
    await this.checkAcceptable(pinset, current.version, now);
    const checks = await this.liveCheckOrRefuse(pinset);
    const envelope = signPinSet(pinset, signer);
    const receipt = checkReceipt(envelope, current); // our own output must pass what devices check (size included)
    if (!receipt.ok) throw new DomainError(receipt.code, receipt.detail);
    return await this.store(pinset, envelope, 'gateway', actor, checks);
  }

  async createFromEnvelope(envelope: Uint8Array, actor: string): Promise<PublishedPinSet> {
    const { keysets, clock } = this.deps;
    const current = await keysets.current();
    const receipt = checkReceipt(envelope, current); // context-free checks E_SIZE … E_SCHEMA
    if (!receipt.ok) throw new DomainError(receipt.code, receipt.detail);
    const now = Math.floor(clock.now() / 1000);
    await this.checkAcceptable(receipt.pinset, current.version, now);
    const checks = await this.liveCheckOrRefuse(receipt.pinset);
    return await this.store(receipt.pinset, envelope, 'offline', actor, checks);
  }

  private async checkAcceptable(pinset: PinSet, keysetVersion: number, now: number): Promise<void> {
    if (pinset.keysetVersion !== keysetVersion) {
      throw new DomainError('E_KEYSET', `pin set names keyset v${pinset.keysetVersion}; the current keyset is v${keysetVersion}`);
    }
    const maxSeq = await this.deps.pinsets.maxSeq(pinset.target.fleet);
    if (pinset.seq <= maxSeq) {
      throw new DomainError('E_SEQ', `seq ${pinset.seq} is not above fleet "${pinset.target.fleet}"'s latest seq ${maxSeq}`);
    }
    if (pinset.notAfter <= now) throw new DomainError('E_EXPIRED', `notAfter ${pinset.notAfter} is not in the future`);
    if (pinset.issuedAt > now + MAX_CLOCK_SKEW_SECONDS) {
      throw new DomainError('E_NOT_YET', `issuedAt ${pinset.issuedAt} is more than ${MAX_CLOCK_SKEW_SECONDS} s ahead`);
    }
  }

  private async liveCheckOrRefuse(pinset: PinSet): Promise<LiveCheckEntry[]> {
    const checks = await liveCheck(pinset, this.deps.fetchPins, this.deps.liveCheckTimeoutMs);
    const bricked = checks.filter((c) => c.status === 'would-brick');
    if (bricked.length > 0) {
      throw new DomainError(
        'E_WOULD_BRICK',
        `${bricked.map((c) => `${c.host}:${c.port}`).join(', ')} serve${bricked.length === 1 ? 's' : ''} a key the new set does not pin`,
        { liveCheck: checks },
      );
    }
    return checks;
  }

  private async store(pinset: PinSet, envelope: Uint8Array, source: 'gateway' | 'offline', actor: string, checks: LiveCheckEntry[]): Promise<PublishedPinSet> {
    const { pinsets, audit, clock } = this.deps;
    const sha256 = toHex(envelopeSha256(envelope));
    const row = await pinsets.insert({
        fleet: pinset.target.fleet,
        seq: pinset.seq,
        envelope: Buffer.from(envelope),
        sha256,
        json: pinSetToJson(pinset),
        keysetVersion: pinset.keysetVersion,
        notAfter: pinset.notAfter,
        source,
        createdAt: clock.now(),
        createdBy: actor,
      });
    // another publisher (or gateway replica) stored this seq or these bytes since the maxSeq check
    if (row === undefined) throw new DomainError('E_SEQ', `seq ${pinset.seq} of fleet "${pinset.target.fleet}" (or these bytes) already exists`);
    const unreachable = checks.filter((c) => c.status === 'unreachable').map((c) => c.host);
    await audit.append(actor, 'pinset.create', `${row.fleet}#${row.seq}`, { id: row.id, sha256, source, unreachable });
    return { id: row.id, fleet: row.fleet, seq: row.seq, sha256, keysetVersion: row.keysetVersion, liveCheck: checks };
  }
}
