import type { KeysetRepo } from '../registry/repositories';
import { bytesEqual, fromHex, toHex, type TrustedKeyset } from '../../shared/index';

/** The gateway's view of the signer keysets (SPEC §5) as shared's TrustedKeyset. */
export class TrustedKeysets {
  constructor(private readonly store: KeysetRepo) {}

  async current(): Promise<TrustedKeyset> {
    const row = await this.store.current();
    if (!row) throw new Error('no signer keyset: the gateway bootstraps one at start-up');
    return { version: row.version, publicKeys: row.publicKeys.map(fromHex) };
  }

  includes(keyset: TrustedKeyset, publicKey: Uint8Array): boolean {
    return keyset.publicKeys.some((k) => bytesEqual(k, publicKey));
  }

  toJson(keyset: TrustedKeyset): { version: number; publicKeys: string[] } {
    return { version: keyset.version, publicKeys: keyset.publicKeys.map(toHex) };
  }
}
