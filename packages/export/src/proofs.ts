import {
  auditPaths,
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
import { lineFile, pad, readLines, sortLines } from './spill.js';

export type ProofDeps = { store: CustodyStore; redis?: Redis | Cluster; keys?: CustodyKeys };

/** An object's line in `byKey`: `{JSON key}\t{index}`; the index is its place in the export. */
export const objectLine = (key: string, index: number) => `${JSON.stringify(key)}\t${pad(index)}`;

const MAX = 1e14;

/**
 * The custody proof (as `archiver prove` prints it) of every object of an export, each from
 * its latest sealed entry, without holding the objects' keys: a join on disk.
 *
 * 1. The seals are read newest first; every entry `isCandidate` accepts (under the export's
 *    chats) is written as a line (key, seal, place). Reading stops at the first seal whose
 *    newest entry is older than `notBefore` (an entry is written after its message).
 * 2. Candidates and the export's objects are sorted by key on disk and merged: the first
 *    candidate of a key is its latest entry.
 * 3. The winners, sorted by seal, are proved reading each of those seals once more.
 * 4. The proofs, sorted by the objects' index, are written to the returned file, one line
 *    `{index}\t{proof JSON}` each, in the export's order.
 *
 * Memory holds one seal and one sort run. `byKey` is consumed.
 */
export async function proveObjects(
  deps: ProofDeps,
  opts: {
    tmp: string;
    byKey: string;
    isCandidate: (key: string) => boolean;
    notBefore?: number;
  },
): Promise<{ file: string; proved: number; sealsRead: number }> {
  const at = (name: string) => `${opts.tmp}/${name}`;
  const head =
    (deps.redis && deps.keys && (await readHead(deps.redis, deps.keys))) ||
    (await headFromBucket(deps.store));

  const candidates = lineFile(at('candidates'));
  let sealsRead = 0;
  for (let seq = head.seq; seq >= 1; seq -= 1) {
    const found = await readSealAt(deps.store, seq);
    if (!found) continue;
    sealsRead += 1;
    const entries = found.seal.raw.entries;
    let newest = 0;
    for (let i = entries.length - 1; i >= 0; i -= 1) {
      const e = entries[i]!;
      newest = Math.max(newest, Date.parse(e.time));
      if (!opts.isCandidate(e.key)) continue;
      await candidates.write(`${JSON.stringify(e.key)}\t${pad(MAX - seq)}\t${pad(MAX - i)}`);
    }
    if (opts.notBefore !== undefined && newest < opts.notBefore) break;
  }
  await candidates.close();
  await sortLines(candidates.path, at('candidates.sorted'));
  await sortLines(opts.byKey, at('objects.sorted'));

  // Merge: objects and candidates, both by key; the first candidate of a key wins.
  const winners = lineFile(at('winners'));
  const cands = readLines(at('candidates.sorted'));
  let cand = await cands.next();
  for await (const line of readLines(at('objects.sorted'))) {
    const [key, index] = line.split('\t') as [string, string];
    while (!cand.done && fieldOf(cand.value) < key) cand = await cands.next();
    if (cand.done || fieldOf(cand.value) !== key) continue;
    const [, invSeq, invI] = cand.value.split('\t') as [string, string, string];
    const seq = MAX - Number(invSeq);
    const i = MAX - Number(invI);
    await winners.write(`${pad(seq)}\t${pad(i)}\t${index}`);
  }
  await cands.return(undefined);
  await winners.close();
  await sortLines(winners.path, at('winners.sorted'));

  // Prove, one seal at a time.
  const proofs = lineFile(at('proofs'));
  let current: { seq: number; prove: (i: number) => CustodyProof } | undefined;
  for await (const line of readLines(at('winners.sorted'))) {
    const [seqText, iText, index] = line.split('\t') as [string, string, string];
    const seq = Number(seqText);
    if (current?.seq !== seq) current = { seq, prove: await sealProver(deps.store, seq) };
    await proofs.write(`${index}\t${JSON.stringify(current.prove(Number(iText)))}`);
  }
  await proofs.close();
  await sortLines(proofs.path, at('proofs.sorted'));
  return { file: at('proofs.sorted'), proved: proofs.count, sealsRead };
}

/** The key field of a line (its JSON string, up to the first tab). */
function fieldOf(line: string): string {
  return line.slice(0, line.indexOf('\t'));
}

async function sealProver(store: CustodyStore, seq: number) {
  const found = await readSealAt(store, seq);
  if (!found) throw new Error(`seal ${seq} disappeared while the export was proving it`);
  const entries = found.seal.raw.entries;
  const leaves = entryLeaves(entries);
  const root = merkleRoot(leaves).toString('hex');
  const pathOf = auditPaths(leaves);
  return (i: number): CustodyProof => {
    const e = entries[i]!;
    const entry = canonicalEntry(e);
    return {
      key: e.key,
      entry,
      leaf: leafHash(entry).toString('hex'),
      index: i,
      path: pathOf(i),
      root,
      seal: {
        key: sealKey(store.prefix, seq),
        seq,
        sha256: found.sha256,
        statement: found.seal.raw.statement,
        signature: found.seal.raw.signature,
      },
    };
  };
}
