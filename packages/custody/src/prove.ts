import type { Cluster, Redis } from 'ioredis';
import { canonicalEntry, type CustodyEntry } from './entry.js';
import { headFromBucket, readHead, readSealAt } from './head.js';
import { sealKey, timestampKey, type CustodyKeys } from './custody-keys.js';
import { auditPath, leafHash, merkleRoot, type PathStep } from './merkle.js';
import { entryLeaves } from './seal.js';
import type { CustodyStore } from './custody-store.js';

/** Everything needed to check one object by hand with the public key alone (docs/custody.md). */
export type CustodyProof = {
  key: string;
  /** The leaf's exact bytes: leaf = SHA-256(0x00 || entry). */
  entry: string;
  leaf: string;
  index: number;
  path: PathStep[];
  root: string;
  seal: { key: string; seq: number; sha256: string; statement: string; signature: string };
  /** The seal's RFC 3161 token, when there is one. */
  timestampKey?: string;
};

export type ProveResult =
  | { status: 'proved'; proof: CustodyProof; sealBytes: Buffer }
  | { status: 'pending'; entry: CustodyEntry }
  | { status: 'unknown' };

/**
 * The latest entry for `key`: seals are read from the newest down (a rewritten object's
 * current bytes are its latest entry), and the entries still in Redis say "not sealed yet".
 */
export async function proveKey(opts: {
  store: CustodyStore;
  redis?: Redis | Cluster;
  keys: CustodyKeys;
  key: string;
}): Promise<ProveResult> {
  const { store } = opts;
  if (opts.redis) {
    const rows = await opts.redis.xrevrange(opts.keys.entries, '+', '-', 'COUNT', 100_000);
    for (const [, fields] of rows) {
      const entry = JSON.parse(fields[1] ?? '{}') as CustodyEntry;
      if (entry.key === opts.key) return { status: 'pending', entry };
    }
  }
  const head =
    (opts.redis && (await readHead(opts.redis, opts.keys))) || (await headFromBucket(store));
  for (let seq = head.seq; seq >= 1; seq -= 1) {
    const found = await readSealAt(store, seq);
    if (!found) continue;
    const entries = found.seal.raw.entries;
    let index = -1;
    for (let i = entries.length - 1; i >= 0; i -= 1) {
      if (entries[i]!.key === opts.key) {
        index = i;
        break;
      }
    }
    if (index < 0) continue;
    const leaves = entryLeaves(entries);
    const entry = canonicalEntry(entries[index]!);
    const tsr = timestampKey(store.prefix, seq);
    return {
      status: 'proved',
      sealBytes: found.bytes,
      proof: {
        key: opts.key,
        entry,
        leaf: leafHash(entry).toString('hex'),
        index,
        path: auditPath(leaves, index),
        root: merkleRoot(leaves).toString('hex'),
        seal: {
          key: sealKey(store.prefix, seq),
          seq,
          sha256: found.sha256,
          statement: found.seal.raw.statement,
          signature: found.seal.raw.signature,
        },
        ...((await store.exists(tsr)) ? { timestampKey: tsr } : {}),
      },
    };
  }
  return { status: 'unknown' };
}
