import { createHash } from 'node:crypto';

/**
 * A Merkle tree as RFC 6962 (Certificate Transparency) §2.1 defines it, with SHA-256 and its
 * domain separation, so a leaf can never pass for an inner node:
 *   leaf = SHA-256(0x00 || entry bytes)
 *   node = SHA-256(0x01 || left || right)
 * and a list of n > 1 leaves splits at k, the largest power of two below n. The root of
 * an empty list is SHA-256 of nothing.
 */
const LEAF = Buffer.from([0]);
const NODE = Buffer.from([1]);

export function leafHash(entryBytes: string): Buffer {
  return createHash('sha256').update(LEAF).update(entryBytes, 'utf8').digest();
}

export function nodeHash(left: Buffer, right: Buffer): Buffer {
  return createHash('sha256').update(NODE).update(left).update(right).digest();
}

function split(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

export function merkleRoot(leaves: Buffer[]): Buffer {
  if (leaves.length === 0) return createHash('sha256').digest();
  return subtreeRoot(leaves, 0, leaves.length);
}

function subtreeRoot(leaves: Buffer[], start: number, end: number): Buffer {
  const n = end - start;
  if (n === 1) return leaves[start] as Buffer;
  const k = split(n);
  return nodeHash(subtreeRoot(leaves, start, start + k), subtreeRoot(leaves, start + k, end));
}

/**
 * One step of an audit path, from the leaf up: the sibling's hash and which side it sits on.
 * `left`: node = H(0x01 || sibling || current); `right`: node = H(0x01 || current || sibling).
 */
export type PathStep = { side: 'left' | 'right'; hash: string };

export function auditPath(leaves: Buffer[], index: number): PathStep[] {
  if (index < 0 || index >= leaves.length) throw new RangeError('leaf index out of range');
  const steps: PathStep[] = [];
  collect(leaves, 0, leaves.length, index, steps);
  return steps;
}

function collect(leaves: Buffer[], start: number, end: number, index: number, out: PathStep[]) {
  const n = end - start;
  if (n === 1) return;
  const k = split(n);
  if (index < start + k) {
    collect(leaves, start, start + k, index, out);
    out.push({ side: 'right', hash: subtreeRoot(leaves, start + k, end).toString('hex') });
  } else {
    collect(leaves, start + k, end, index, out);
    out.push({ side: 'left', hash: subtreeRoot(leaves, start, start + k).toString('hex') });
  }
}

/**
 * Audit paths of many leaves of one tree (an export proves most entries of a seal): each
 * subtree's root is computed once, so n paths cost O(n log n) hashes, not O(n²).
 */
export function auditPaths(leaves: Buffer[]): (index: number) => PathStep[] {
  const memo = new Map<number, Buffer>();
  const width = leaves.length + 1;
  const root = (start: number, end: number): Buffer => {
    if (end - start === 1) return leaves[start] as Buffer;
    const id = start * width + end;
    let h = memo.get(id);
    if (!h) {
      const k = split(end - start);
      h = nodeHash(root(start, start + k), root(start + k, end));
      memo.set(id, h);
    }
    return h;
  };
  return (index) => {
    if (index < 0 || index >= leaves.length) throw new RangeError('leaf index out of range');
    const steps: PathStep[] = [];
    let start = 0;
    let end = leaves.length;
    while (end - start > 1) {
      const k = split(end - start);
      if (index < start + k) {
        steps.push({ side: 'right', hash: root(start + k, end).toString('hex') });
        end = start + k;
      } else {
        steps.push({ side: 'left', hash: root(start, start + k).toString('hex') });
        start += k;
      }
    }
    // Collected from the root down; a path runs from the leaf up.
    return steps.reverse();
  };
}

/** The root an audit path leads to from a leaf (what a verifier compares with the seal's). */
export function rootFromPath(leaf: Buffer, path: PathStep[]): Buffer {
  let h = leaf;
  for (const step of path) {
    const sibling = Buffer.from(step.hash, 'hex');
    h = step.side === 'left' ? nodeHash(sibling, h) : nodeHash(h, sibling);
  }
  return h;
}
