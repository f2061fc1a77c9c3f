import type { KeyObject } from 'node:crypto';
import type { S3Client } from '@aws-sdk/client-s3';
import type { Cluster, Redis } from 'ioredis';
import { readHead } from '../head.js';
import type { CustodyKeys } from '../custody-keys.js';
import { createCustodyLog } from '../log.js';
import type { CustodyStore } from '../custody-store.js';
import { checkChain, type ChainSummary } from './chain.js';
import type { CustodyFinding } from './findings.js';
import { digestId, judgePartition, type PendingIndex } from './join.js';
import { hashObjects } from './objects.js';
import { createPartitions } from './partitions.js';

export type CustodyVerifyResult = {
  chain: ChainSummary;
  objects: number;
  /** Objects whose bytes are those of their latest sealed entry. */
  sealedObjects: number;
  bytesHashed: number;
  /** Every breach found; `findingsDropped` more beyond the first MAX_FINDINGS. */
  findings: CustodyFinding[];
  findingsDropped: number;
  /** The most lines of one partition held at once, and how often one was split. */
  partitions: { maxHeld: number; splits: number };
};

/** Findings kept for the report; more are counted, so a wrecked archive cannot fill memory. */
const MAX_FINDINGS = 10_000;

export type CustodyVerifyProgress = (p: {
  phase: 'seals' | 'objects' | 'compare';
  done: number;
  bytes?: number;
}) => void;

/**
 * The custody half of `archiver verify`: the chain of seals, then every object against the
 * seals. Redis is read for two things only: entries recorded but not sealed yet, and the
 * head (so deleting the newest seals shows); without Redis both are simply absent.
 */
export async function verifyCustody(opts: {
  s3: S3Client;
  store: CustodyStore;
  redis?: Redis | Cluster;
  keys: CustodyKeys;
  publicKey: KeyObject;
  intervalMs: number;
  concurrency: number;
  now?: () => number;
  progress?: CustodyVerifyProgress;
  /** Sees every finding as it is made (the rescan acts on them); the result keeps the first ones. */
  onFinding?: (f: CustodyFinding) => void | Promise<void>;
  /**
   * Other claims about objects to judge with the digests found (the records' claims about
   * their files): `claims` adds them, `onClaim` gets each with the object's digest, if any.
   */
  claims?: (add: (key: string, claim: object) => void) => Promise<void>;
  onClaim?: (claim: object, found?: { sha256: string; size: number }) => void;
  /** Lines of one partition held at most (tests lower it to see the bound hold). */
  partitionLines?: number;
}): Promise<CustodyVerifyResult> {
  const findings: CustodyFinding[] = [];
  let dropped = 0;
  const seen: CustodyFinding[] = [];
  const report = (f: CustodyFinding) => {
    seen.push(f);
    if (findings.length < MAX_FINDINGS) findings.push(f);
    else dropped += 1;
  };
  // Findings are handed on in batches (one seal, one partition), never all at once.
  const handOn = async () => {
    const batch = seen.splice(0);
    if (opts.onFinding) for (const f of batch) await opts.onFinding(f);
  };
  const pending: PendingIndex = new Map();
  let headSeq: number | undefined;
  if (opts.redis) {
    headSeq = (await readHead(opts.redis, opts.keys))?.seq;
    const log = createCustodyLog(opts.redis, opts.keys);
    let after = '0-0';
    for (;;) {
      const page = await log.pending(5000, after);
      for (const p of page) {
        const set = pending.get(p.entry.key) ?? new Set<string>();
        set.add(digestId(p.entry));
        pending.set(p.entry.key, set);
      }
      if (page.length < 5000) break;
      after = page.at(-1)!.id;
    }
  }
  const partitions = createPartitions({ maxLines: opts.partitionLines });
  let seals = 0;
  const chain = await checkChain({
    s3: opts.s3,
    store: opts.store,
    publicKey: opts.publicKey,
    headSeq,
    partitions,
    report,
    onSeal: () => opts.progress?.({ phase: 'seals', done: (seals += 1) }),
  });
  await handOn();
  let hashed = 0;
  let bytesHashed = 0;
  const objects = await hashObjects({
    s3: opts.s3,
    bucket: opts.store.bucket,
    prefix: opts.store.prefix,
    concurrency: opts.concurrency,
    partitions,
    report,
    onObject: (bytes) => {
      bytesHashed += bytes;
      opts.progress?.({ phase: 'objects', done: (hashed += 1), bytes: bytesHashed });
    },
  });
  await handOn();
  await opts.claims?.((key, claim) =>
    partitions.add(key, `C\t${JSON.stringify({ ...claim, key })}`),
  );
  const unsealedBefore = (opts.now ?? Date.now)() - opts.intervalMs;
  let sealedObjects = 0;
  let groups = 0;
  await partitions.each(async (lines) => {
    sealedObjects += judgePartition(lines, {
      pending,
      unsealedBefore,
      report,
      onClaim: opts.onClaim,
    }).sealedObjects;
    opts.progress?.({ phase: 'compare', done: (groups += 1) });
    await handOn();
  });
  findings.sort((a, b) => sortKey(a).localeCompare(sortKey(b)));
  return {
    chain,
    objects,
    sealedObjects,
    bytesHashed,
    findings,
    findingsDropped: dropped,
    partitions: { ...partitions.stats },
  };
}

function sortKey(f: CustodyFinding): string {
  return 'key' in f && !('seq' in f && f.problem.startsWith('seal'))
    ? `1${f.key}`
    : `0${String((f as { seq: number }).seq).padStart(12, '0')}`;
}
