import { createHash } from 'node:crypto';
import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { chatDayFolder, eventRecordSchema, forEachLimit, sidecarSchema } from '@archiver/core';
import { carriedText, messageText, referenceOf, type Relation } from '@archiver/greenapi';
import { createRecall } from './recall.js';

/**
 * A chat's timeline read from S3 alone (docs/conversation.md §6): the chat's listing is
 * streamed, and one day's records at a time are read, sorted and printed, so memory holds
 * one day, plus the texts of the last REMEMBER_DAYS days' messages (for edits, deletions and
 * reactions that name an earlier one; recall.ts), never the whole chat.
 */

export { MAX_REMEMBERED, REMEMBER_DAYS } from './recall.js';

const KINDS = ['whatsapp', 'max'] as const;
const READ_CONCURRENCY = 8;

export type TimelineEntry = {
  time: string;
  timestamp: number;
  direction: 'in' | 'out' | 'event';
  kind: string;
  key: string;
  /** SHA-256 of the record's bytes as read (the review page compares it with the seal's). */
  recordSha256?: string;
  type: string;
  idMessage?: string;
  sender?: string;
  senderName?: string;
  text?: string;
  file?: {
    status: string;
    key?: string;
    size?: number;
    sha256?: string;
    reason?: string;
    /** The original name and type Green-API gave, as the record keeps them. */
    fileName?: string;
    contentType?: string;
  };
  /** For an edit, deletion, reaction, vote or reply: the message named, and its text then. */
  refersTo?: { idMessage: string; relation: Relation; text?: string };
  /** Event fields: a status's value, a call's status, an instance's state. */
  status?: string;
};

export type TimelineOptions = {
  bucket: string;
  prefix: string;
  idInstance: string;
  chatId: string;
  since?: string;
  until?: string;
  onDay?: (day: string, entries: number) => void;
};

/** The timeline, day by day, in time order within each day. */
export async function* chatTimeline(
  s3: S3Client,
  opts: TimelineOptions,
): AsyncGenerator<TimelineEntry> {
  const recall = createRecall();
  for (const kind of KINDS) {
    // A message of one kind is never named by the other's.
    recall.clear();
    const chatFolder = chatDayFolder({
      prefix: opts.prefix,
      kind,
      idInstance: opts.idInstance,
      chatId: opts.chatId,
      timestamp: 0,
    }).replace(/\d{4}\/\d{2}\/\d{2}\/$/, '');
    for await (const { day, keys } of listDays(s3, opts.bucket, chatFolder, opts)) {
      const entries = await readDay(s3, opts.bucket, keys, kind);
      opts.onDay?.(day, entries.length);
      recall.startDay(day);
      for (const entry of entries) {
        const named = entry.refersTo;
        // Remembered, the text as last edited; else what this message quotes of it, if anything.
        if (named && recall.has(named.idMessage)) named.text = recall.text(named.idMessage);
        if (entry.idMessage && entry.direction !== 'event') {
          // An edit replaces the text of the message it names; the rest are messages of their own.
          if (named?.relation === 'edit') recall.set(named.idMessage, entry.text, day);
          else if (named?.relation !== 'delete') recall.set(entry.idMessage, recalled(entry), day);
        }
        yield entry;
      }
    }
  }
}

/** What a later edit, deletion or reaction shows of a message: its text, or its file's name. */
function recalled(entry: TimelineEntry): string | undefined {
  if (entry.text !== undefined || !entry.file) return entry.text;
  return `[file ${entry.file.fileName ?? entry.type}]`;
}

/**
 * The chat's record keys grouped by day, one day at a time. Keys list in order and a day's
 * folder sorts by its date, so one pass over the chat's listing (pages of 1,000, as `verify`
 * lists) meets each day's keys together: only the current day's are held. `--since` starts
 * the listing at its day; `--until` ends it after its day.
 */
async function* listDays(
  s3: S3Client,
  bucket: string,
  chatFolder: string,
  range: { since?: string; until?: string },
): AsyncGenerator<{ day: string; keys: string[] }> {
  let current: { day: string; keys: string[] } | undefined;
  const startAfter = range.since ? `${chatFolder}${range.since.replaceAll('-', '/')}` : undefined;
  for await (const key of listKeys(s3, bucket, chatFolder, startAfter)) {
    const parts = key.slice(chatFolder.length).split('/');
    const [yyyy, mm, dd, folder, name] = parts;
    if (parts.length !== 5 || !/^\d{4}$/.test(yyyy ?? '') || !mm || !dd) continue;
    const day = `${yyyy}-${mm}-${dd}`;
    if (range.since && day < range.since) continue;
    if (range.until && day > range.until) break;
    const isRecord =
      name === 'message.json' || (folder === '_events' && name?.endsWith('.json') === true);
    if (!isRecord) continue;
    if (current && current.day !== day) {
      yield current;
      current = undefined;
    }
    current ??= { day, keys: [] };
    current.keys.push(key);
  }
  if (current) yield current;
}

/** Every key under `prefix` in order, one ListObjectsV2 page (≤ 1000 keys) at a time. */
async function* listKeys(s3: S3Client, bucket: string, prefix: string, startAfter?: string) {
  let token: string | undefined;
  do {
    const page = await s3.send(
      new ListObjectsV2Command({
        Bucket: bucket,
        Prefix: prefix,
        ContinuationToken: token,
        StartAfter: token ? undefined : startAfter,
      }),
    );
    for (const object of page.Contents ?? []) if (object.Key) yield object.Key;
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
}

async function readDay(s3: S3Client, bucket: string, keys: string[], kind: string) {
  const entries: TimelineEntry[] = [];
  await forEachLimit(keys, READ_CONCURRENCY, async (key) => {
    const { json, sha256 } = await readJson(s3, bucket, key);
    const entry = toEntry(key, kind, json);
    if (entry) entries.push({ ...entry, recordSha256: sha256 });
  });
  return entries.sort((a, b) => a.timestamp - b.timestamp || a.key.localeCompare(b.key));
}

/** A record's JSON, and the SHA-256 of its bytes (hashed as they are read: no second GET). */
async function readJson(s3: S3Client, bucket: string, key: string) {
  const res = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  const bytes = Buffer.from((await res.Body?.transformToByteArray()) ?? []);
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  try {
    return { json: JSON.parse(bytes.toString('utf8')) as unknown, sha256 };
  } catch {
    return { json: undefined, sha256 };
  }
}

function toEntry(key: string, kind: string, json: unknown): TimelineEntry | undefined {
  const message = sidecarSchema.safeParse(json);
  if (message.success) {
    const s = message.data;
    const body = s.message;
    const messageData = (body.messageData ?? {}) as Record<string, unknown>;
    const senderData = (body.senderData ?? {}) as Record<string, unknown>;
    const ref = referenceOf(messageData);
    return {
      time: isoTime(s.timestamp),
      timestamp: s.timestamp,
      direction: s.typeWebhook === 'incomingMessageReceived' ? 'in' : 'out',
      kind,
      key,
      type: s.typeMessage,
      idMessage: s.idMessage,
      sender: typeof senderData.sender === 'string' ? senderData.sender : undefined,
      senderName: typeof senderData.senderName === 'string' ? senderData.senderName : undefined,
      text: messageText(messageData),
      file:
        s.status === 'recorded'
          ? undefined
          : {
              status: s.status,
              key: s.key,
              size: s.size,
              sha256: s.sha256,
              reason: s.reason?.code,
              fileName: s.fileName,
              contentType: s.contentType,
            },
      refersTo: ref
        ? { idMessage: ref.stanzaId, relation: ref.relation, text: carriedText(messageData) }
        : undefined,
    };
  }
  const event = eventRecordSchema.safeParse(json);
  if (!event.success) return undefined;
  const e = event.data;
  const body = e.message;
  // A status's value, a call's, an instance's state, a block's (incomingBlock).
  const status = body.status ?? body.stateInstance ?? body.statusInstance ?? body.statusBlock;
  return {
    time: isoTime(e.timestamp),
    timestamp: e.timestamp,
    direction: 'event',
    kind,
    key,
    type: e.typeWebhook,
    idMessage: e.idMessage,
    status: typeof status === 'string' ? status : undefined,
  };
}

function isoTime(timestamp: number): string {
  return new Date(timestamp * 1000).toISOString().replace('.000Z', 'Z');
}
