import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { auditPath, auditPaths, leafHash, merkleRoot, nodeHash, rootFromPath } from './merkle.js';

const sha = (...parts: Buffer[]) => createHash('sha256').update(Buffer.concat(parts)).digest();

describe('merkle', () => {
  it('hashes leaves and nodes with RFC 6962 domain separation', () => {
    expect(leafHash('a')).toEqual(sha(Buffer.from([0]), Buffer.from('a')));
    const l = leafHash('a');
    const r = leafHash('b');
    expect(nodeHash(l, r)).toEqual(sha(Buffer.from([1]), l, r));
  });

  it('splits at the largest power of two below n', () => {
    const [a, b, c] = ['a', 'b', 'c'].map(leafHash) as [Buffer, Buffer, Buffer];
    expect(merkleRoot([a])).toEqual(a);
    expect(merkleRoot([a, b, c])).toEqual(nodeHash(nodeHash(a, b), c));
    expect(merkleRoot([])).toEqual(sha());
  });

  it('gives every leaf a path to the root, for every tree size up to 33', () => {
    for (let n = 1; n <= 33; n += 1) {
      const leaves = Array.from({ length: n }, (_, i) => leafHash(`entry ${i}`));
      const root = merkleRoot(leaves);
      for (let i = 0; i < n; i += 1) {
        expect(rootFromPath(leaves[i] as Buffer, auditPath(leaves, i))).toEqual(root);
      }
    }
  });

  it('auditPaths gives the same paths as auditPath, for every tree size up to 33', () => {
    for (let n = 1; n <= 33; n += 1) {
      const leaves = Array.from({ length: n }, (_, i) => leafHash(`entry ${i}`));
      const pathOf = auditPaths(leaves);
      for (let i = 0; i < n; i += 1) expect(pathOf(i)).toEqual(auditPath(leaves, i));
    }
  });

  it('a path does not prove a different leaf', () => {
    const leaves = ['a', 'b', 'c', 'd', 'e'].map(leafHash);
    const path = auditPath(leaves, 2);
    expect(rootFromPath(leafHash('x'), path)).not.toEqual(merkleRoot(leaves));
  });
});
