import { randomUUID } from 'node:crypto';
import { luaScript } from '@archiver/lua-script';
import type { RedisClient } from './redis.js';
import type { RedisKeys } from './redis-keys.js';

export type QuarantineEntry = {
  id: string;
  receivedAt: number;
  reason: string;
  idInstance?: string;
  typeWebhook?: string;
  /** The body as received (its text), every base64 `jpegThumbnail` emptied; for replay. */
  body: string;
};

/** Why a body left the quarantine without being replayed: which cap it was over. */
export type QuarantineDropReason = 'count' | 'bytes';

/** A body the quarantine let go of, described without its text. */
export type QuarantineDrop = {
  id: string;
  reason: QuarantineDropReason;
  /** Bytes of the stored entry. */
  bytes: number;
  receivedAt?: number;
  idInstance?: string;
  typeWebhook?: string;
  /** Why it had been quarantined. */
  quarantinedFor?: string;
};

export type QuarantineOptions = {
  /** QUARANTINE_MAX_BYTES: the stored entries' total size; unset: only the count caps. */
  maxBytes?: number;
  /** Every body dropped to honour a cap; the caller counts and logs it. */
  onDrop?: (drops: QuarantineDrop[]) => void;
};

// The quarantine's three keys: `order` (zset id → receivedAt), `bodies` (hash id → entry
// JSON), `bytes` (their total size).
const QUARANTINE_KEYS = ['order', 'bodies', 'bytes'] as const;

// Adds the entry, then drops the oldest while either cap is exceeded (the new entry last:
// one larger than the byte cap on its own goes too). One script, so two receivers adding at
// once cannot both miss the overflow. Returns per drop DROP_FIELDS values: id, reason,
// bytes, receivedAt, idInstance, typeWebhook, reason quarantined.
const ADD = luaScript({
  name: 'archiverQuarantineAdd',
  keys: QUARANTINE_KEYS,
  args: {
    id: 'string',
    receivedAt: 'string',
    entry: 'string',
    maxCount: 'number',
    maxBytes: 'number',
  },
  body: `
local size = string.len(entry)
redis.call('ZADD', order, receivedAt, id)
redis.call('HSET', bodies, id, entry)
local total = redis.call('INCRBY', bytes, size)
local dropped = {}
while true do
  local count = redis.call('ZCARD', order)
  local reason
  if count > maxCount then reason = 'count'
  elseif count > 0 and total > maxBytes then reason = 'bytes'
  else break end
  local oldest = redis.call('ZRANGE', order, 0, 0)[1]
  local stored = redis.call('HGET', bodies, oldest)
  redis.call('ZREM', order, oldest)
  redis.call('HDEL', bodies, oldest)
  local len = stored and string.len(stored) or 0
  total = redis.call('DECRBY', bytes, len)
  if total < 0 or count == 1 then redis.call('SET', bytes, 0); total = 0 end
  local meta = {}
  if stored then
    local ok, decoded = pcall(cjson.decode, stored)
    if ok and type(decoded) == 'table' then meta = decoded end
  end
  local function text(v) if v == nil or v == cjson.null then return '' end return tostring(v) end
  table.insert(dropped, oldest)
  table.insert(dropped, reason)
  table.insert(dropped, tostring(len))
  table.insert(dropped, text(meta.receivedAt))
  table.insert(dropped, text(meta.idInstance))
  table.insert(dropped, text(meta.typeWebhook))
  table.insert(dropped, text(meta.reason))
end
return dropped
`,
  reply: (raw) => raw as string[],
});
const DROP_FIELDS = 7;

// Removes one entry and its bytes from the total; 1 if it was there.
const REMOVE = luaScript({
  name: 'archiverQuarantineRemove',
  keys: QUARANTINE_KEYS,
  args: { id: 'string' },
  body: `
local stored = redis.call('HGET', bodies, id)
redis.call('ZREM', order, id)
redis.call('HDEL', bodies, id)
if stored then
  local total = redis.call('DECRBY', bytes, string.len(stored))
  if total < 0 or redis.call('ZCARD', order) == 0 then redis.call('SET', bytes, 0) end
end
return stored and 1 or 0
`,
  reply: Number,
});

/** Defined by `createRedis` on every connection, with the other scripts (redis.ts says why). */
export function defineQuarantineScripts(redis: RedisClient): void {
  ADD.define(redis);
  REMOVE.define(redis);
}

// A JSON key `"jpegThumbnail"` and its string value. In valid JSON an unescaped `"` always
// delimits a string, and a string followed by `:` is a key, so this finds exactly the
// thumbnails at any depth, without parsing (a body 10,000 levels deep cannot be re-serialised).
const THUMBNAIL = /("jpegThumbnail"\s*:\s*)"(?:[^"\\]|\\.)*"/g;

/**
 * The body with every `jpegThumbnail` value emptied: base64 previews are most of a file
 * webhook's size and nothing the archiver keeps (docs/storage.md), and the quarantine is
 * capped in bytes. The key stays, so the text stays valid JSON and replays the same.
 */
export function withoutThumbnails(body: string): string {
  return body.includes('jpegThumbnail') ? body.replace(THUMBNAIL, '$1""') : body;
}

/**
 * Authenticated webhooks the archiver does not recognise are kept, newest `max` of them and
 * at most `maxBytes` in all, so an operator can inspect and replay them; Green-API would
 * otherwise redeliver a refused body every minute for a day and hold back the instance's
 * later webhooks. A body pushed out by a cap is reported to `onDrop`, never dropped silently.
 * Layout: a sorted set id → receivedAt for order, a hash id → entry JSON, a byte counter.
 */
export function createQuarantine(
  redis: RedisClient,
  keys: RedisKeys,
  max: number,
  opts: QuarantineOptions = {},
) {
  defineQuarantineScripts(redis);
  const scriptKeys = {
    order: keys.quarantine,
    bodies: keys.quarantineBodies,
    bytes: keys.quarantineBytes,
  };
  const maxBytes = opts.maxBytes ?? Number.MAX_SAFE_INTEGER;
  return {
    async add(entry: Omit<QuarantineEntry, 'id'>): Promise<string> {
      const id = randomUUID();
      const stored = { id, ...entry, body: withoutThumbnails(entry.body) };
      const reply = await ADD.run(redis, {
        keys: scriptKeys,
        args: {
          id,
          receivedAt: String(entry.receivedAt),
          entry: JSON.stringify(stored),
          maxCount: max,
          maxBytes,
        },
      });
      const drops = parseDrops(reply);
      if (drops.length > 0) opts.onDrop?.(drops);
      return id;
    },

    /** Newest first. */
    async list(offset = 0, count = 100): Promise<QuarantineEntry[]> {
      const ids = await redis.zrevrange(keys.quarantine, offset, offset + count - 1);
      if (ids.length === 0) return [];
      const bodies = await redis.hmget(keys.quarantineBodies, ...ids);
      return bodies
        .filter((b): b is string => b !== null)
        .map((b) => JSON.parse(b) as QuarantineEntry);
    },

    async get(id: string): Promise<QuarantineEntry | undefined> {
      const body = await redis.hget(keys.quarantineBodies, id);
      return body ? (JSON.parse(body) as QuarantineEntry) : undefined;
    },

    async remove(id: string): Promise<void> {
      await REMOVE.run(redis, { keys: scriptKeys, args: { id } });
    },

    size(): Promise<number> {
      return redis.zcard(keys.quarantine);
    },

    /** Bytes of the stored entries (the QUARANTINE_MAX_BYTES measure). */
    async bytes(): Promise<number> {
      return Number((await redis.get(keys.quarantineBytes)) ?? 0);
    },
  };
}

function parseDrops(reply: string[]): QuarantineDrop[] {
  const drops: QuarantineDrop[] = [];
  for (let i = 0; i + DROP_FIELDS <= reply.length; i += DROP_FIELDS) {
    const [id, reason, bytes, receivedAt, idInstance, typeWebhook, why] = reply.slice(
      i,
      i + DROP_FIELDS,
    );
    drops.push({
      id: id ?? '',
      reason: reason === 'bytes' ? 'bytes' : 'count',
      bytes: Number(bytes),
      receivedAt: receivedAt ? Number(receivedAt) : undefined,
      idInstance: idInstance || undefined,
      typeWebhook: typeWebhook || undefined,
      quarantinedFor: why || undefined,
    });
  }
  return drops;
}

export type Quarantine = ReturnType<typeof createQuarantine>;
