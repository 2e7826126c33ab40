import { createHash } from 'node:crypto';

/** RFC 6962 §2.1: leaf hash = SHA-256(0x00 ‖ leaf), node hash = SHA-256(0x01 ‖ left ‖ right). */
export function leafHash(leafInput: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(Uint8Array.of(0)).update(leafInput).digest());
}

export function nodeHash(left: Uint8Array, right: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(Uint8Array.of(1)).update(left).update(right).digest());
}

const EMPTY_ROOT = new Uint8Array(createHash('sha256').digest());

/**
 * The right edge of a Merkle tree built leaf by leaf: one hash per perfect subtree, sizes the binary digits of
 * the leaf count, largest first. O(log n) memory, so a watcher can follow a log for ever and still check every
 * new signed tree head: appending the new entries to the frontier must give exactly the root the log signed
 * (RFC 6962 §2.1 MTH), which proves both that the entries are the ones the STH commits to and that the new tree
 * extends the old one (what a consistency proof would show).
 */
export class MerkleFrontier {
  private constructor(
    private readonly nodes: { size: number; hash: Uint8Array }[],
    private count: number,
  ) {}

  static empty(): MerkleFrontier {
    return new MerkleFrontier([], 0);
  }

  get size(): number {
    return this.count;
  }

  /** What is kept in the registry (issue 13): a new leader continues the log from here instead of from entry 0. */
  toJSON(): { size: number; nodes: { size: number; hash: string }[] } {
    return { size: this.count, nodes: this.nodes.map((n) => ({ size: n.size, hash: Buffer.from(n.hash).toString('base64') })) };
  }

  /** The inverse of toJSON; refuses node sizes that are not the binary digits of `size`, largest first. */
  static fromJSON(j: { size: number; nodes: { size: number; hash: string }[] }): MerkleFrontier {
    let rest = j.size;
    for (const n of j.nodes) {
      // arithmetic, not bitwise: logs hold billions of entries, beyond 32 bits
      if (!(n.size >= 1 && Number.isInteger(Math.log2(n.size)) && n.size <= rest && rest < 2 * n.size)) {
        throw new Error(`not a Merkle frontier of ${j.size} leaves`);
      }
      rest -= n.size;
    }
    if (rest !== 0) throw new Error(`not a Merkle frontier of ${j.size} leaves`);
    return new MerkleFrontier(j.nodes.map((n) => ({ size: n.size, hash: new Uint8Array(Buffer.from(n.hash, 'base64')) })), j.size);
  }

  clone(): MerkleFrontier {
    return new MerkleFrontier(this.nodes.map((n) => ({ ...n })), this.count);
  }

  append(leafHashValue: Uint8Array): void {
    let node = { size: 1, hash: leafHashValue };
    for (let last = this.nodes.at(-1); last !== undefined && last.size === node.size; last = this.nodes.at(-1)) {
      this.nodes.pop();
      node = { size: last.size * 2, hash: nodeHash(last.hash, node.hash) };
    }
    this.nodes.push(node);
    this.count += 1;
  }

  /** MTH(D[n]): for n not a power of two, H(MTH(D[0:k]) ‖ MTH(D[k:n])) — i.e. fold the subtrees right to left. */
  root(): Uint8Array {
    const last = this.nodes.at(-1);
    if (last === undefined) return EMPTY_ROOT;
    let acc = last.hash;
    for (let i = this.nodes.length - 2; i >= 0; i--) acc = nodeHash((this.nodes[i] as { hash: Uint8Array }).hash, acc);
    return acc;
  }
}

/** MTH over a list of leaf hashes, by the RFC's recursive definition (the reference the frontier is tested against). */
export function merkleRoot(leaves: readonly Uint8Array[]): Uint8Array {
  if (leaves.length === 0) return EMPTY_ROOT;
  if (leaves.length === 1) return leaves[0] as Uint8Array;
  let k = 1;
  while (k * 2 < leaves.length) k *= 2;
  return nodeHash(merkleRoot(leaves.slice(0, k)), merkleRoot(leaves.slice(k)));
}
