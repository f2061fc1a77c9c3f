import {
  auditPath,
  canonicalEntry,
  entryLeaves,
  headFromBucket,
  leafHash,
  merkleRoot,
  readHead,
  readSealAt,
  sealKey,
  type CustodyKeys,
  type CustodyProof,
  type CustodyStore,
} from '@archiver/custody';
import type { Cluster, Redis } from 'ioredis';

/**
 * The custody proof (as `archiver prove` prints it) of each of `keys`, from one pass over the
 * seals, newest first, so each key gets its latest sealed entry: `archiver prove` per object
 * would read every seal once per object. `onProof` is called as each is found; keys left
 * unproved at the end were not sealed yet.
 */
export async function proveKeys(
  deps: { store: CustodyStore; redis?: Redis | Cluster; keys?: CustodyKeys },
  wanted: Set<string>,
  onProof: (proof: CustodyProof) => Promise<void>,
): Promise<Set<string>> {
  const left = new Set(wanted);
  if (left.size === 0) return left;
  const head =
    (deps.redis && deps.keys && (await readHead(deps.redis, deps.keys))) ||
    (await headFromBucket(deps.store));
  for (let seq = head.seq; seq >= 1 && left.size > 0; seq -= 1) {
    const found = await readSealAt(deps.store, seq);
    if (!found) continue;
    const entries = found.seal.raw.entries;
    let leaves: Buffer[] | undefined;
    let root: string | undefined;
    for (let i = entries.length - 1; i >= 0; i -= 1) {
      const e = entries[i]!;
      if (!left.has(e.key)) continue;
      left.delete(e.key);
      leaves ??= entryLeaves(entries);
      root ??= merkleRoot(leaves).toString('hex');
      const entry = canonicalEntry(e);
      await onProof({
        key: e.key,
        entry,
        leaf: leafHash(entry).toString('hex'),
        index: i,
        path: auditPath(leaves, i),
        root,
        seal: {
          key: sealKey(deps.store.prefix, seq),
          seq,
          sha256: found.sha256,
          statement: found.seal.raw.statement,
          signature: found.seal.raw.signature,
        },
      });
    }
  }
  return left;
}
