import type { Cluster, Redis } from 'ioredis';
import { luaScript } from '@archiver/lua-script';
import { sha256Hex } from './entry.js';
import { headFromBucket, readHead, readSealAt, type ChainHead } from './head.js';
import { sealKey, timestampKey, type CustodyKeys } from './custody-keys.js';
import { acquireSealLock } from './lock.js';
import { nextStreamId, type CustodyLog } from './log.js';
import { readRescanNote } from './rescan-note.js';
import { buildSeal, type SealStatement } from './seal.js';
import type { SealSigner } from './signing.js';
import type { CustodyStore } from './custody-store.js';

export type Timestamper = (root: Buffer) => Promise<Buffer>;

export type SealerDeps = {
  redis: Redis | Cluster;
  keys: CustodyKeys;
  log: CustodyLog;
  store: CustodyStore;
  signer: SealSigner;
  /** RFC 3161 client for `SEAL_TSA_URL`. */
  timestamper?: Timestamper;
  /** Entries per seal: bounds a seal's size and the sealer's memory (more make more seals). */
  maxEntries?: number;
  lockTtlMs?: number;
  now?: () => Date;
  onSealed?: (statement: SealStatement) => void;
  onTimestampFailed?: (seq: number, err: unknown) => void;
};

export type SealRun =
  | { status: 'busy' }
  | { status: 'done'; sealed: SealStatement[]; adopted: number[]; timestamped: number[] };

export class ChainForkError extends Error {
  override name = 'ChainForkError';
}
export class SealLockLostError extends Error {
  override name = 'SealLockLostError';
}

const MAX_ENTRIES = 10_000;
const LOCK_TTL_MS = 5 * 60_000;

// The seal is in S3 already: now the head moves and its entries leave Redis, at once. The
// rescan note goes too if it is still the one sealed (`sealedRescan`, '' when none was).
const COMMIT = luaScript({
  name: 'custodySealCommit',
  keys: ['head', 'entries', 'rescan'],
  args: { headJson: 'string', keepFrom: 'string', sealedRescan: 'string' },
  body: `
redis.call('SET', head, headJson)
redis.call('XTRIM', entries, 'MINID', keepFrom)
if sealedRescan ~= '' and redis.call('GET', rescan) == sealedRescan then
  redis.call('DEL', rescan)
end
return 1
`,
  reply: Number,
});

/**
 * Seals every pending entry, in seals of at most `maxEntries`. A seal's sequence number is
 * its key and is written once; entries leave Redis only after their seal is stored. A
 * sealer killed at any point leaves either no seal (its entries are still pending) or a
 * stored seal past the head, which the next run takes over (`adopted`) before sealing on:
 * no gap, no fork.
 */
export async function sealPending(deps: SealerDeps): Promise<SealRun> {
  const { redis, keys, store } = deps;
  const now = deps.now ?? (() => new Date());
  const max = deps.maxEntries ?? MAX_ENTRIES;
  const lock = await acquireSealLock(redis, keys.lock, deps.lockTtlMs ?? LOCK_TTL_MS);
  if (!lock) return { status: 'busy' };
  const run = { status: 'done' as const, sealed: [] as SealStatement[], adopted: [] as number[] };
  try {
    const stored = await readHead(redis, keys);
    let head = stored ?? (await headFromBucket(store));
    let lostHead = false;

    const commit = (next: ChainHead, rescanRaw = '') =>
      COMMIT.run(redis, {
        keys: { head: keys.head, entries: keys.entries, rescan: keys.rescan },
        args: {
          headJson: JSON.stringify(next),
          keepFrom: nextStreamId(next.through),
          sealedRescan: rescanRaw,
        },
      });

    if (!stored && head.seq > 0) {
      // No head in Redis, seals in the bucket: either the first sealer died between its PUT
      // and its commit (its entries are still in the stream: take the seal over), or Redis
      // lost its state (the stream is empty too: the next seal says so).
      const untrimmed = await redis.xrange(keys.entries, '-', head.through, 'COUNT', 1);
      if (untrimmed.length > 0) {
        await commit(head);
        run.adopted.push(head.seq);
      } else {
        lostHead = true;
      }
    }
    for (;;) {
      head = await adoptStored(deps, head, run.adopted, commit);
      const pending = await deps.log.pending(max, head.through);
      const rescan = await readRescanNote(redis, keys);
      if (pending.length === 0 && !rescan && !lostHead) break;
      const through = pending.at(-1)?.id ?? head.through;
      const built = buildSeal(
        deps.signer,
        head,
        pending.map((p) => p.bytes),
        {
          time: now().toISOString(),
          through,
          rescan: rescan?.note,
          headFromBucket: lostHead || undefined,
        },
      );
      if (!(await lock.extend())) throw new SealLockLostError('the seal lock expired mid-seal');
      const seq = built.statement.seq;
      const put = await store.putOnce(sealKey(store.prefix, seq), built.bytes, 'application/json');
      if (put.status === 'taken') continue; // another sealer stored this number: take it over
      head = { seq, sha256: built.sha256, through };
      await commit(head, rescan?.raw);
      lostHead = false;
      run.sealed.push(built.statement);
      deps.onSealed?.(built.statement);
      if (deps.timestamper) await redis.sadd(keys.tsaPending, String(seq));
      if (pending.length < max) break;
    }
    const timestamped = deps.timestamper ? await fetchTimestamps(deps, deps.timestamper) : [];
    return { ...run, timestamped };
  } finally {
    await lock.release().catch(() => undefined);
  }
}

/** Seals stored past the head (by a sealer that died before its commit, or won a race). */
async function adoptStored(
  deps: SealerDeps,
  from: ChainHead,
  adopted: number[],
  commit: (head: ChainHead) => Promise<unknown>,
): Promise<ChainHead> {
  let head = from;
  for (;;) {
    const next = await readSealAt(deps.store, head.seq + 1);
    if (!next) return head;
    if (next.seal.statement.prev !== head.sha256) {
      throw new ChainForkError(
        `seal ${head.seq + 1} does not continue seal ${head.seq}: refusing to seal on (run archiver verify)`,
      );
    }
    head = { seq: head.seq + 1, sha256: next.sha256, through: next.seal.statement.through };
    await commit(head);
    adopted.push(head.seq);
  }
}

/**
 * RFC 3161 tokens for the seals still without one. A TSA that is down only leaves the seal
 * in the pending set for the next run; the token, once had, is an object like any other
 * and is entered in the custody log (sealed by the next seal).
 */
async function fetchTimestamps(deps: SealerDeps, timestamper: Timestamper): Promise<number[]> {
  const done: number[] = [];
  const seqs = (await deps.redis.smembers(deps.keys.tsaPending)).map(Number).sort((a, b) => a - b);
  for (const seq of seqs) {
    try {
      const seal = await readSealAt(deps.store, seq);
      if (seal) {
        const token = await timestamper(Buffer.from(seal.seal.statement.root, 'hex'));
        const key = timestampKey(deps.store.prefix, seq);
        const put = await deps.store.putOnce(key, token, 'application/timestamp-reply');
        if (put.status === 'written') {
          await deps.log.record({
            key,
            versionId: put.versionId ?? null,
            sha256: sha256Hex(token),
            size: token.length,
            time: (deps.now ?? (() => new Date()))().toISOString(),
          });
        }
        done.push(seq);
      }
      await deps.redis.srem(deps.keys.tsaPending, String(seq));
    } catch (err) {
      deps.onTimestampFailed?.(seq, err);
    }
  }
  return done;
}
