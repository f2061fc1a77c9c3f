import { z } from 'zod';
import { idInstanceString } from '@archiver/greenapi';
import { luaScript } from '@archiver/lua-script';
import type { RedisClient } from './redis.js';
import type { RedisKeys } from './redis-keys.js';
import type { ArchiveJob } from './job.js';

/**
 * What the sweep needs to record a job that left the queue without an end
 * (docs/storage.md §6): the message's identity, enough for its S3 keys and a failure
 * record, and nothing secret (no token, no link, no body). It is indexed beside the job's
 * deadline when the job is claimed, and removed with it when the job ends, because the job's
 * own hash is exactly what is gone when it is needed.
 */
export type JobIdentity = {
  idInstance: string;
  kind: 'whatsapp' | 'max';
  chatId: string;
  idMessage: string;
  /** Message time, UNIX seconds. */
  timestamp: number;
  typeWebhook: string;
  typeMessage: string;
  fileName?: string;
  mimeType?: string;
  source: ArchiveJob['source'];
  /** When the job was indexed (ms): a job claimed moments ago may not be added yet. */
  claimedAt: number;
};

/**
 * Stored as a JSON array, the instance left out (the job id starts with it, archiveJobId)
 * and the common values shortened: an identity costs every queued job about 260 bytes of
 * Redis (a hash entry and a ~150-byte value; an object with named fields took 430), and the
 * budget is 2 KiB a job (BENCHMARKS.md, `redis-memory`).
 */
const KINDS = { w: 'whatsapp', m: 'max' } as const;
const KIND_CODES = { whatsapp: 'w', max: 'm' } as const;
const SOURCES = { w: 'webhook', p: 'poll', j: 'journal', r: 'replay', s: 'statuses' } as const;
const SOURCE_CODES = {
  webhook: 'w',
  poll: 'p',
  journal: 'j',
  replay: 'r',
  statuses: 's',
} as const;
const WEBHOOKS: Record<string, string> = {
  i: 'incomingMessageReceived',
  o: 'outgoingMessageReceived',
  a: 'outgoingAPIMessageReceived',
};
const WEBHOOK_CODES = new Map(Object.entries(WEBHOOKS).map(([code, name]) => [name, code]));

const storedIdentitySchema = z.tuple([
  z.enum(['w', 'm']),
  z.enum(['w', 'p', 'j', 'r', 's']),
  /* chatId */ z.string(),
  /* idMessage */ z.string(),
  /* timestamp, s */ z.number(),
  /* typeWebhook, or its code */ z.string(),
  /* typeMessage */ z.string(),
  /* fileName */ z.string().nullable(),
  /* mimeType, only where there is no fileName (the key's extension comes from it) */
  z.string().nullable(),
  /* claimedAt, s */ z.number(),
]);

/** The identity of `job`, claimed (indexed) at `claimedAt` (ms). */
export function jobIdentityOf(
  job: Pick<
    ArchiveJob,
    | 'idInstance'
    | 'kind'
    | 'chatId'
    | 'idMessage'
    | 'timestamp'
    | 'typeWebhook'
    | 'typeMessage'
    | 'fileName'
    | 'mimeType'
    | 'source'
  >,
  claimedAt: number,
): JobIdentity {
  return {
    idInstance: job.idInstance,
    kind: job.kind,
    chatId: job.chatId,
    idMessage: job.idMessage,
    timestamp: job.timestamp,
    typeWebhook: job.typeWebhook,
    typeMessage: job.typeMessage,
    fileName: job.fileName,
    mimeType: job.mimeType,
    source: job.source,
    claimedAt,
  };
}

export function encodeJobIdentity(id: JobIdentity): string {
  const named = id.fileName?.trim() ? id.fileName : undefined;
  const stored: z.infer<typeof storedIdentitySchema> = [
    KIND_CODES[id.kind],
    SOURCE_CODES[id.source],
    id.chatId,
    id.idMessage,
    id.timestamp,
    WEBHOOK_CODES.get(id.typeWebhook) ?? id.typeWebhook,
    id.typeMessage,
    named ?? null,
    named ? null : (id.mimeType ?? null),
    Math.floor(id.claimedAt / 1000),
  ];
  return JSON.stringify(stored);
}

/** The identity stored for job `jobId`, or undefined when the stored text is not one. */
export function decodeJobIdentity(jobId: string, text: string): JobIdentity | undefined {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return undefined;
  }
  const parsed = storedIdentitySchema.safeParse(json);
  const idInstance = idInstanceOfJob(jobId);
  if (!parsed.success || !idInstance) return undefined;
  const [kind, source, chatId, idMessage, timestamp, webhook, typeMessage, fileName, mime] =
    parsed.data;
  return {
    idInstance,
    kind: KINDS[kind],
    chatId,
    idMessage,
    timestamp,
    typeWebhook: WEBHOOKS[webhook] ?? webhook,
    typeMessage,
    fileName: fileName ?? undefined,
    mimeType: mime ?? undefined,
    source: SOURCES[source],
    claimedAt: parsed.data[9] * 1000,
  };
}

/** The instance a job id names (archiveJobId: `{idInstance}-{digest}`). */
export function idInstanceOfJob(jobId: string): string | undefined {
  const head = jobId.split('-')[0] ?? '';
  return idInstanceString.safeParse(head).success ? head : undefined;
}

/** The deadline index: a sorted set job id → deadline (ms), a hash job id → identity. */
const INDEX_KEYS = ['deadlines', 'identities'] as const;
/** The index and one job's keys: its BullMQ hash and its done marker. */
const JOB_KEYS = [...INDEX_KEYS, 'jobHash', 'doneMarker'] as const;

const indexKeys = (keys: RedisKeys) => ({ deadlines: keys.deadlines, identities: keys.identities });
const jobKeys = (keys: RedisKeys, jobId: string) => ({
  ...indexKeys(keys),
  jobHash: keys.job(jobId),
  doneMarker: keys.done(jobId),
});

// An identity of '' drops the stored one.
const INDEX_JOB = luaScript({
  name: 'archiverIndexJob',
  keys: INDEX_KEYS,
  args: { jobId: 'string', deadline: 'string', identity: 'string' },
  body: `
redis.call('ZADD', deadlines, deadline, jobId)
if identity == '' then redis.call('HDEL', identities, jobId) else redis.call('HSET', identities, jobId, identity) end
return 1
`,
  reply: Number,
});

const UNINDEX_JOB = luaScript({
  name: 'archiverUnindexJob',
  keys: INDEX_KEYS,
  args: { jobId: 'string' },
  body: `redis.call('ZREM', deadlines, jobId) redis.call('HDEL', identities, jobId) return 1`,
  reply: Number,
});

/**
 * Puts a job (back) in the deadline index with its identity, outside the job writer:
 * `archiver retry-failed` before it re-queues a failed job. Without an identity (job data
 * that does not parse) an older one is dropped rather than left to describe another run.
 */
export async function indexJob(
  redis: RedisClient,
  keys: RedisKeys,
  jobId: string,
  deadline: number,
  identity: JobIdentity | undefined,
): Promise<void> {
  const encoded = identity ? encodeJobIdentity(identity) : '';
  await INDEX_JOB.run(redis, {
    keys: indexKeys(keys),
    args: { jobId, deadline: String(deadline), identity: encoded },
  });
}

/** Takes a job out of the deadline index (a re-queue that did not happen). */
export async function unindexJob(
  redis: RedisClient,
  keys: RedisKeys,
  jobId: string,
): Promise<void> {
  await UNINDEX_JOB.run(redis, { keys: indexKeys(keys), args: { jobId } });
}

// Per entry two values: a state, and the identity for state 1.
//   0: the job is there (waiting, delayed, active, failed…): in flight, not gone;
//   1: gone, and no done marker: it left without an end;
//   2: gone, but it ended (a done marker): a stale entry, removed here;
//   3: no longer in the index (ended, or swept, since the scan saw it).
const INSPECT = luaScript({
  name: 'archiverInspectJobs',
  keys: INDEX_KEYS,
  args: {},
  each: { keys: ['jobHash', 'doneMarker'], args: { jobId: 'string' } },
  body: `
local out = {}
for i = 1, itemCount do
  local id = jobId(i)
  local state, identity = 0, false
  if redis.call('ZSCORE', deadlines, id) == false then
    state = 3
  elseif redis.call('EXISTS', jobHash(i)) == 0 then
    if redis.call('EXISTS', doneMarker(i)) == 1 then
      redis.call('ZREM', deadlines, id)
      redis.call('HDEL', identities, id)
      state = 2
    else
      state = 1
      identity = redis.call('HGET', identities, id)
    end
  end
  out[2 * i - 1] = state
  out[2 * i] = identity
end
return out
`,
  reply: (raw) => raw as Array<number | string | null>,
});

// `read`: the identity the sweep read ('' for none); `status`: a done status to set ('' for
// none), for `ttlSeconds`. The fence: the entry is removed only if its job is still gone and
// nobody claimed the id again since it was read (a new claim writes a new identity, with its
// own claimedAt).
const FORGET = luaScript({
  name: 'archiverForgetGoneJob',
  keys: JOB_KEYS,
  args: { jobId: 'string', read: 'string', status: 'string', ttlSeconds: 'string' },
  body: `
if redis.call('ZSCORE', deadlines, jobId) == false then return 0 end
if redis.call('EXISTS', jobHash, doneMarker) > 0 then return 0 end
local identity = redis.call('HGET', identities, jobId) or ''
if identity ~= read then return 0 end
redis.call('ZREM', deadlines, jobId)
redis.call('HDEL', identities, jobId)
if status ~= '' then redis.call('SET', doneMarker, status, 'EX', ttlSeconds) end
return 1
`,
  reply: Number,
});

/** An index entry whose job is gone without an end. */
export type GoneJob = {
  jobId: string;
  deadline: number;
  /** The stored text, as the fence compares it; undefined when none was stored. */
  stored?: string;
  /** Undefined when none was stored (indexed before identities were) or it does not parse. */
  identity?: JobIdentity;
  /** For an entry without an identity: when a sweep first found it gone (noteFirstSeen). */
  firstSeen?: number;
};

/** What an entry without an identity holds once a sweep has seen it gone: `?{ms}`. */
const FIRST_SEEN = /^\?(\d+)$/;

function goneJob(entry: { jobId: string; deadline: number }, stored: unknown): GoneJob {
  if (typeof stored !== 'string') return entry;
  const seen = FIRST_SEEN.exec(stored);
  if (seen) return { ...entry, stored, firstSeen: Number(seen[1]) };
  return { ...entry, stored, identity: decodeJobIdentity(entry.jobId, stored) };
}

const NOTE_FIRST_SEEN = luaScript({
  name: 'archiverNoteFirstSeen',
  keys: JOB_KEYS,
  args: { jobId: 'string', nowMs: 'string' },
  body: `
if redis.call('ZSCORE', deadlines, jobId) == false then return 0 end
if redis.call('EXISTS', jobHash, doneMarker) > 0 then return 0 end
return redis.call('HSETNX', identities, jobId, '?' .. nowMs)
`,
  reply: Number,
});

/**
 * Notes when an entry without an identity (claimed by an older release) was first seen
 * gone, so that the sweep gives it the same grace as any other before calling it lost: it
 * may be a claim whose job is still being added.
 */
export async function noteFirstSeen(
  redis: RedisClient,
  keys: RedisKeys,
  jobId: string,
  now: number,
): Promise<void> {
  await NOTE_FIRST_SEEN.run(redis, {
    keys: jobKeys(keys, jobId),
    args: { jobId, nowMs: String(now) },
  });
}

export type InspectSummary = { inFlight: number; stale: number };

/** Entries looked at per round trip. */
const SCAN_COUNT = 500;

/**
 * Walks the whole deadline index and yields the entries whose job is gone without an end,
 * removing on the way the ones whose job ended (a done marker). ZSCAN may yield an entry
 * twice; the caller's forget is conditional, so that costs nothing but a look.
 */
export async function* findGoneJobs(
  redis: RedisClient,
  keys: RedisKeys,
  summary: InspectSummary = { inFlight: 0, stale: 0 },
): AsyncGenerator<GoneJob> {
  let cursor = '0';
  do {
    const [next, flat] = await redis.zscan(keys.deadlines, cursor, 'COUNT', SCAN_COUNT);
    cursor = next;
    const entries: Array<{ jobId: string; deadline: number }> = [];
    for (let i = 0; i + 1 < flat.length; i += 2) {
      entries.push({ jobId: flat[i] as string, deadline: Number(flat[i + 1]) });
    }
    if (entries.length === 0) continue;
    const out = await INSPECT.run(redis, {
      keys: indexKeys(keys),
      args: {},
      items: entries.map(({ jobId }) => ({
        jobHash: keys.job(jobId),
        doneMarker: keys.done(jobId),
        jobId,
      })),
    });
    for (const [i, entry] of entries.entries()) {
      const state = out[2 * i];
      if (state === 0) summary.inFlight += 1;
      if (state === 2) summary.stale += 1;
      if (state !== 1) continue;
      yield goneJob(entry, out[2 * i + 1]);
    }
  } while (cursor !== '0');
}

/**
 * Removes a gone job's entry once its record is in S3, optionally setting its done marker
 * (when the record found there says it ended). False when the entry changed meanwhile: the
 * job came back (a redelivery claimed the id again) or another sweeper took it.
 */
export async function forgetGoneJob(
  redis: RedisClient,
  keys: RedisKeys,
  gone: Pick<GoneJob, 'jobId' | 'stored'>,
  done?: { status: string; ttlSeconds: number },
): Promise<boolean> {
  const result = await FORGET.run(redis, {
    keys: jobKeys(keys, gone.jobId),
    args: {
      jobId: gone.jobId,
      read: gone.stored ?? '',
      status: done?.status ?? '',
      ttlSeconds: String(Math.ceil(done?.ttlSeconds ?? 0)),
    },
  });
  return result === 1;
}
