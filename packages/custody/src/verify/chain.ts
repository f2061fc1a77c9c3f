import type { KeyObject } from 'node:crypto';
import type { S3Client } from '@aws-sdk/client-s3';
import { canonicalEntry, sha256Hex } from '../entry.js';
import { custodyPrefix, parseSealKey } from '../custody-keys.js';
import { leafHash, merkleRoot } from '../merkle.js';
import { parseSeal } from '../seal.js';
import { keyIdOf, verifyStatement } from '../signing.js';
import type { CustodyStore } from '../custody-store.js';
import type { CustodyFinding } from './findings.js';
import { listObjects } from './listing.js';
import type { Partitions } from './partitions.js';

export type ChainSummary = { seals: number; entries: number; lastSeq: number; lastTime?: string };

/**
 * Walks the seals in sequence order (their keys sort so): each must be readable, signed by
 * the public key, hash to its root and name the SHA-256 of the seal before it; numbers must
 * not skip. Sealed entries go to the partitions for the object check. One seal is in memory
 * at a time (at most the sealer's 10,000 entries).
 */
export async function checkChain(opts: {
  s3: S3Client;
  store: CustodyStore;
  publicKey: KeyObject;
  /** The head Redis knows, if any: catches the last seals being deleted. */
  headSeq?: number;
  partitions: Partitions;
  report: (f: CustodyFinding) => void;
  onSeal?: (seq: number) => void;
}): Promise<ChainSummary> {
  const { store, report } = opts;
  const keyId = keyIdOf(opts.publicKey);
  const summary: ChainSummary = { seals: 0, entries: 0, lastSeq: 0 };
  let prevSha: string | null = null;
  for await (const object of listObjects(
    opts.s3,
    store.bucket,
    `${custodyPrefix(store.prefix)}seals/`,
  )) {
    const seq = parseSealKey(store.prefix, object.key);
    if (seq === undefined) continue;
    if (seq > summary.lastSeq + 1) {
      const from = summary.lastSeq + 1;
      report({
        problem: 'seal_missing',
        seq: from,
        detail:
          seq - 1 > from ? `seals ${from}–${seq - 1} are not in the bucket` : 'not in the bucket',
      });
      prevSha = null;
    }
    const previous = seq === summary.lastSeq + 1 ? prevSha : undefined;
    summary.lastSeq = seq;
    summary.seals += 1;
    opts.onSeal?.(seq);
    const bytes = await store.get(object.key);
    if (!bytes) {
      report({ problem: 'seal_missing', seq, detail: 'listed but not readable' });
      prevSha = null;
      continue;
    }
    prevSha = sha256Hex(bytes);
    let seal: ReturnType<typeof parseSeal>;
    try {
      seal = parseSeal(bytes);
    } catch (err) {
      report({ problem: 'seal_unreadable', seq, key: object.key, detail: (err as Error).message });
      continue;
    }
    const { statement, raw } = seal;
    summary.lastTime = statement.time;
    if (statement.seq !== seq) {
      report({
        problem: 'seal_unreadable',
        seq,
        key: object.key,
        detail: `its statement says seal ${statement.seq}`,
      });
    }
    if (statement.keyId !== keyId) {
      report({
        problem: 'seal_signature',
        seq,
        detail: `signed with another key (key id ${statement.keyId}, expected ${keyId})`,
      });
    } else if (!verifyStatement(opts.publicKey, raw.statement, raw.signature)) {
      report({
        problem: 'seal_signature',
        seq,
        detail: 'the signature does not verify with the public key',
      });
    }
    const root = merkleRoot(raw.entries.map((e) => leafHash(canonicalEntry(e)))).toString('hex');
    if (root !== statement.root || raw.entries.length !== statement.count) {
      report({
        problem: 'seal_root',
        seq,
        detail: `its ${raw.entries.length} entries hash to ${root}; the signed root is ${statement.root} over ${statement.count}`,
      });
    }
    if (seq === 1 && statement.prev !== null) {
      report({ problem: 'chain_broken', seq, detail: 'the first seal names a previous seal' });
    } else if (previous && statement.prev !== previous) {
      report({
        problem: 'chain_broken',
        seq,
        detail: `it names previous seal ${statement.prev}; seal ${seq - 1} in the bucket is ${previous}`,
      });
    }
    raw.entries.forEach((e, i) => {
      opts.partitions.add(
        e.key,
        `E\t${JSON.stringify({ key: e.key, versionId: e.versionId, sha256: e.sha256, size: e.size, seq, i })}`,
      );
    });
    summary.entries += raw.entries.length;
  }
  if (opts.headSeq !== undefined && opts.headSeq > summary.lastSeq) {
    report({
      problem: 'seal_missing',
      seq: summary.lastSeq + 1,
      detail: `the sealer's head is seal ${opts.headSeq}; the bucket ends at seal ${summary.lastSeq}`,
    });
  }
  return summary;
}
