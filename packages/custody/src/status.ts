import { HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { Cluster, Redis } from 'ioredis';
import { headFromBucket, readHead, readSealAt } from './head.js';
import { sealKey, type CustodyKeys } from './custody-keys.js';
import { createCustodyLog } from './log.js';
import { isNotFound, type CustodyStore } from './custody-store.js';

/**
 * The custody status of a few objects (one chat's day on the review page), without reading
 * the whole chain: `archiver verify` is the full proof, this is the reviewer's at-a-glance.
 *
 * - `waiting`: an entry with the object's size (and SHA-256, where known) is in the unsealed
 *   log (Redis), or the object is younger than one seal interval and not entered yet.
 * - `sealed`: its latest sealed entry has the object's size and, where known, its SHA-256.
 * - `breach`: an entry exists but the object's size or SHA-256 differs (`changed`); the
 *   object is older than an interval and in no seal written since (`unsealed`); a sealed key
 *   of the folder has no object (`deleted`).
 * - `unchecked`: the bounded search stopped before finding it (see MAX_SEALS_READ).
 *
 * The SHA-256 compared is one the caller has without reading the object again: the digest of
 * a record's bytes the page just read to show it, and the digest a record states for its
 * file (the worker's, taken as it stored the file). An object without one is compared by
 * size. Re-reading every file of a day per page view is what `archiver verify` does. Cost: one XRANGE pass over the unsealed log (at most MAX_PENDING
 * entries), O(log seals) HEAD requests to find the first seal written after the oldest
 * object, then at most MAX_SEALS_READ seals read forward (each ≤ 10,000 entries, one held
 * at a time; only entries under `folder` are kept).
 */
export type CustodyStatus =
  | { status: 'sealed'; seq: number }
  | { status: 'waiting'; why: 'pending' | 'recent' }
  | { status: 'breach'; problem: 'changed' | 'unsealed' | 'deleted'; seq?: number }
  | { status: 'unchecked' }
  | { status: 'off' };

export type ListedObject = {
  key: string;
  size: number;
  lastModified: Date;
  /** The object's SHA-256 where the caller knows it (see above); else sizes are compared. */
  sha256?: string;
};

type Facts = { size: number; sha256: string };

export const MAX_SEALS_READ = 64;
export const MAX_PENDING = 200_000;

export async function custodyStatusOf(opts: {
  s3: S3Client;
  store: CustodyStore;
  redis?: Redis | Cluster;
  keys: CustodyKeys;
  intervalMs: number;
  /** Every key of interest starts with it (a chat's day folder). */
  folder: string;
  objects: ListedObject[];
  now?: () => number;
}): Promise<{ byKey: Map<string, CustodyStatus>; deleted: Array<{ key: string; seq: number }> }> {
  const now = (opts.now ?? Date.now)();
  const pending = opts.redis
    ? await pendingUnder(opts.redis, opts.keys, opts.folder)
    : new Map<string, Facts[]>();
  const head =
    (opts.redis && (await readHead(opts.redis, opts.keys).catch(() => undefined))) ||
    (await headFromBucket(opts.store));
  const sealed = new Map<string, Facts & { seq: number }>();
  const listed = new Set(opts.objects.map((o) => o.key));
  let complete = true;
  if (head.seq > 0 && opts.objects.length > 0) {
    const oldest = Math.min(...opts.objects.map((o) => o.lastModified.getTime()));
    const first = await firstSealAfter(opts.s3, opts.store, head.seq, oldest);
    const wanted = new Set(opts.objects.filter((o) => !pending.has(o.key)).map((o) => o.key));
    let read = 0;
    for (let seq = first; seq <= head.seq; seq += 1) {
      if (read >= MAX_SEALS_READ) {
        complete = wanted.size === 0;
        break;
      }
      read += 1;
      const found = await readSealAt(opts.store, seq);
      for (const e of found?.seal.raw.entries ?? []) {
        if (!e.key.startsWith(opts.folder)) continue;
        sealed.set(e.key, { size: e.size, sha256: e.sha256, seq });
        wanted.delete(e.key);
      }
    }
  }
  const byKey = new Map<string, CustodyStatus>();
  for (const o of opts.objects) {
    byKey.set(
      o.key,
      judge(o, pending.get(o.key), sealed.get(o.key), head.seq, complete, now, opts.intervalMs),
    );
  }
  const deleted = [...sealed]
    .filter(([key]) => !listed.has(key))
    .map(([key, s]) => ({ key, seq: s.seq }));
  return { byKey, deleted };
}

/** An entry names the object: same size, and same SHA-256 where the object's is known. */
function names(entry: Facts, o: ListedObject): boolean {
  return entry.size === o.size && (o.sha256 === undefined || entry.sha256 === o.sha256);
}

function judge(
  o: ListedObject,
  pending: Facts[] | undefined,
  sealed: (Facts & { seq: number }) | undefined,
  headSeq: number,
  complete: boolean,
  now: number,
  intervalMs: number,
): CustodyStatus {
  if (pending?.some((p) => names(p, o))) return { status: 'waiting', why: 'pending' };
  if (sealed && names(sealed, o)) return { status: 'sealed', seq: sealed.seq };
  if (sealed || pending) {
    return { status: 'breach', problem: 'changed', ...(sealed ? { seq: sealed.seq } : {}) };
  }
  if (now - o.lastModified.getTime() < intervalMs) return { status: 'waiting', why: 'recent' };
  if (headSeq === 0) return { status: 'off' };
  return complete ? { status: 'breach', problem: 'unsealed' } : { status: 'unchecked' };
}

/** Sizes and digests of the unsealed entries under `folder`, by key. */
async function pendingUnder(redis: Redis | Cluster, keys: CustodyKeys, folder: string) {
  const out = new Map<string, Facts[]>();
  const log = createCustodyLog(redis, keys);
  let after = '-';
  for (let read = 0; read < MAX_PENDING;) {
    const page = await log.pending(5000, after).catch(() => []);
    for (const p of page) {
      if (p.entry.key.startsWith(folder)) {
        const { size, sha256 } = p.entry;
        out.set(p.entry.key, [...(out.get(p.entry.key) ?? []), { size, sha256 }]);
      }
    }
    read += page.length;
    if (page.length < 5000) break;
    after = page.at(-1)!.id;
  }
  return out;
}

/**
 * The first seal stored at or after `time` (ms), by bisecting on S3's LastModified of the
 * seal objects: a seal is written after every entry it lists, and an entry after its object,
 * so no earlier seal can hold an entry of an object written at `time`.
 */
async function firstSealAfter(
  s3: S3Client,
  store: CustodyStore,
  headSeq: number,
  time: number,
): Promise<number> {
  let low = 1;
  let high = headSeq;
  while (low < high) {
    const mid = Math.floor((low + high) / 2);
    const modified = await sealModified(s3, store, mid);
    if (modified !== undefined && modified < time) low = mid + 1;
    else high = mid;
  }
  return low;
}

async function sealModified(s3: S3Client, store: CustodyStore, seq: number) {
  try {
    const res = await s3.send(
      new HeadObjectCommand({ Bucket: store.bucket, Key: sealKey(store.prefix, seq) }),
    );
    return res.LastModified?.getTime();
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}
