import { createHash } from 'node:crypto';
import {
  journalItemSchema,
  messageWebhookSchema,
  referenceOf,
  type InstanceKind,
  type JournalItem,
  type MessageWebhook,
  type OtherWebhook,
} from '@archiver/greenapi';
import { archiveJobId, firstIssue, journalTypeWebhook } from './job.js';
import {
  recordJobSchema,
  storedRecordJobSchema,
  type JobSource,
  type RecordJobData,
  type StoredRecordJobData,
} from './job-catalog.js';
import { STATUS_CHAT, eventKey, objectKeys } from './object-keys.js';
import { keepMessage, readKeptMessage } from './kept-message.js';
import type { Received } from './sidecar.js';

/** The SHA-256 and length of the bytes a body came as (`exact`: they are what Green-API sent). */
export function receivedOf(rawText: string, exact: boolean): Received {
  const bytes = Buffer.from(rawText, 'utf8');
  return { sha256: createHash('sha256').update(bytes).digest('hex'), size: bytes.length, exact };
}

/**
 * `raw` is the body as parsed from the bytes received, before validation: what the record
 * keeps (the validated webhook has its ids turned into strings and its keys reordered).
 */
export function recordJobFromMessage(
  webhook: MessageWebhook,
  raw: unknown,
  kind: InstanceKind,
  source: JobSource,
  received: Received | undefined,
  now = Date.now(),
): RecordJobData {
  return {
    record: 'message',
    source,
    kind,
    ...webhookFacts(webhook),
    message: keepMessage(raw),
    receivedAt: now,
    received,
  };
}

/** The facts of a message record, which its kept body holds (`storedRecordData`). */
type MessageFacts = Pick<
  RecordJobData,
  'idInstance' | 'typeWebhook' | 'chatId' | 'idMessage' | 'typeMessage' | 'stanzaId' | 'timestamp'
>;

function webhookFacts(webhook: MessageWebhook): MessageFacts {
  return {
    idInstance: webhook.instanceData.idInstance,
    typeWebhook: webhook.typeWebhook,
    chatId: webhook.senderData.chatId,
    idMessage: webhook.idMessage,
    typeMessage: webhook.messageData.typeMessage,
    stanzaId: referenceOf(webhook.messageData)?.stanzaId,
    timestamp: webhook.timestamp,
  };
}

/** A journal item names no instance: the caller says which. */
function journalFacts(idInstance: string, item: JournalItem): MessageFacts {
  return {
    idInstance,
    typeWebhook: journalTypeWebhook(item),
    chatId: item.chatId,
    idMessage: item.idMessage,
    typeMessage: item.typeMessage,
    stanzaId: referenceOf(item as Record<string, unknown>)?.stanzaId,
    timestamp: item.timestamp,
  };
}

export function recordJobFromEvent(
  event: OtherWebhook,
  raw: unknown,
  chatId: string | undefined,
  kind: InstanceKind,
  source: JobSource,
  received: Received | undefined,
  now = Date.now(),
): RecordJobData {
  const hasTime = event.timestamp !== undefined;
  return {
    record: 'event',
    source,
    idInstance: event.instanceData.idInstance,
    kind,
    typeWebhook: event.typeWebhook,
    chatId,
    idMessage: event.idMessage,
    timestamp: event.timestamp ?? Math.floor(now / 1000),
    timestampFrom: hasTime ? 'event' : 'received',
    digest: keptDigest(raw),
    message: keepMessage(raw),
    receivedAt: now,
    received,
  };
}

/** A journal item of a message without a file, found by the backfill (docs/greenapi.md §8). */
export function recordJobFromJournal(
  idInstance: string,
  kind: InstanceKind,
  item: JournalItem,
  now = Date.now(),
): RecordJobData {
  return {
    record: 'message',
    source: 'journal',
    kind,
    ...journalFacts(idInstance, item),
    message: keepMessage(item),
    receivedAt: now,
  };
}

/** A status without a file (a text story), kept as a message of STATUS_CHAT (statuses.ts). */
export function recordJobFromStatus(
  idInstance: string,
  kind: InstanceKind,
  item: JournalItem,
  now = Date.now(),
): RecordJobData {
  return {
    ...recordJobFromJournal(idInstance, kind, item, now),
    source: 'statuses',
    chatId: STATUS_CHAT,
  };
}

/**
 * The same message or event always gets the same job id: a message by (idInstance, chatId,
 * idMessage) as its file job would, an event by its key's parts.
 */
export function recordJobId(d: RecordJobData): string {
  if (d.record === 'message') return archiveJobId(d.idInstance, d.chatId ?? '', d.idMessage ?? '');
  const digest = createHash('sha256')
    .update(`${d.idInstance}\n${d.chatId ?? ''}\n${d.timestamp}\n${d.typeWebhook}\n${d.digest}`)
    .digest('base64url');
  return `${d.idInstance}-e${digest.slice(0, 22)}`;
}

/** Where the record goes: `message.json` in the message's folder, or its event key. */
export function recordKey(prefix: string, d: RecordJobData): string {
  if (d.record === 'message') {
    return objectKeys({
      prefix,
      kind: d.kind,
      idInstance: d.idInstance,
      chatId: d.chatId ?? '',
      idMessage: d.idMessage ?? '',
      timestamp: d.timestamp,
    }).sidecarKey;
  }
  return eventKey({
    prefix,
    kind: d.kind,
    idInstance: d.idInstance,
    chatId: d.chatId,
    timestamp: d.timestamp,
    typeWebhook: d.typeWebhook,
    digest: d.digest ?? '',
  });
}

/**
 * What goes into Redis for a record job. A message's facts stay in its kept body, as a file
 * job's do (`storedJobData`): a text event is mostly its body, and the facts written beside
 * it were a fifth of its data (BENCHMARKS.md, redis-memory). A journal item or a status names
 * no instance, so theirs is kept. Events keep their facts: their chat and time come from
 * fields that differ by type, and from the clock where the event names no time.
 */
export function storedRecordData(d: RecordJobData): StoredRecordJobData {
  if (d.record !== 'message') return d;
  const stored: StoredRecordJobData = {
    record: d.record,
    source: d.source,
    kind: d.kind,
    message: d.message,
    receivedAt: d.receivedAt,
  };
  if (d.source === 'journal' || d.source === 'statuses') stored.idInstance = d.idInstance;
  if (d.received !== undefined) stored.received = d.received;
  return stored;
}

/** A record job's data as the worker reads it: validated, its kept body unpacked, its facts read. */
export function readRecordJob(
  raw: unknown,
):
  | { ok: true; data: RecordJobData; message: Record<string, unknown> }
  | { ok: false; error: string } {
  const stored = storedRecordJobSchema.safeParse(raw);
  if (!stored.success) return { ok: false, error: firstIssue(stored.error) };
  const message = readKeptMessage(stored.data.message);
  if (!message) return { ok: false, error: 'message: not a readable kept body' };
  const facts = stored.data.typeWebhook === undefined ? factsOf(stored.data, message) : {};
  if (typeof facts === 'string') return { ok: false, error: facts };
  const parsed = recordJobSchema.safeParse({ ...stored.data, ...facts });
  if (!parsed.success) return { ok: false, error: firstIssue(parsed.error) };
  return { ok: true, data: parsed.data, message };
}

/** The facts of a message stored without them, from its body; a string says what is wrong. */
function factsOf(d: StoredRecordJobData, message: Record<string, unknown>): MessageFacts | string {
  if (d.record !== 'message') return 'typeWebhook: missing';
  if (d.source === 'journal' || d.source === 'statuses') {
    if (d.idInstance === undefined) return 'idInstance: missing';
    const item = journalItemSchema.safeParse(message);
    if (!item.success) return `message: ${firstIssue(item.error)}`;
    const facts = journalFacts(d.idInstance, item.data);
    return d.source === 'statuses' ? { ...facts, chatId: STATUS_CHAT } : facts;
  }
  const webhook = messageWebhookSchema.safeParse(message);
  if (!webhook.success) return `message: ${firstIssue(webhook.error)}`;
  return webhookFacts(webhook.data);
}

/** SHA-256 of the body as kept (thumbnails dropped): a duplicate has the same. */
function keptDigest(body: unknown): string {
  const json = JSON.stringify(body, (key, value: unknown) =>
    key === 'jpegThumbnail' ? undefined : value,
  );
  return createHash('sha256').update(json).digest('hex');
}
