import { createHash } from 'node:crypto';
import {
  referenceOf,
  type InstanceKind,
  type JournalItem,
  type MessageWebhook,
  type OtherWebhook,
} from '@archiver/greenapi';
import { archiveJobId, journalTypeWebhook } from './job.js';
import { recordJobSchema, type JobSource, type RecordJobData } from './job-catalog.js';
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
    idInstance: webhook.instanceData.idInstance,
    kind,
    typeWebhook: webhook.typeWebhook,
    chatId: webhook.senderData.chatId,
    idMessage: webhook.idMessage,
    typeMessage: webhook.messageData.typeMessage,
    stanzaId: referenceOf(webhook.messageData)?.stanzaId,
    timestamp: webhook.timestamp,
    message: keepMessage(raw),
    receivedAt: now,
    received,
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
    idInstance,
    kind,
    typeWebhook: journalTypeWebhook(item),
    chatId: item.chatId,
    idMessage: item.idMessage,
    typeMessage: item.typeMessage,
    stanzaId: referenceOf(item as Record<string, unknown>)?.stanzaId,
    timestamp: item.timestamp,
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

export function readRecordJob(
  raw: unknown,
):
  | { ok: true; data: RecordJobData; message: Record<string, unknown> }
  | { ok: false; error: string } {
  const parsed = recordJobSchema.safeParse(raw);
  if (!parsed.success) {
    return { ok: false, error: parsed.error.issues[0]?.message ?? 'invalid data' };
  }
  const message = readKeptMessage(parsed.data.message);
  if (!message) return { ok: false, error: 'message: not a readable kept body' };
  return { ok: true, data: parsed.data, message };
}

/** SHA-256 of the body as kept (thumbnails dropped): a duplicate has the same. */
function keptDigest(body: unknown): string {
  const json = JSON.stringify(body, (key, value: unknown) =>
    key === 'jpegThumbnail' ? undefined : value,
  );
  return createHash('sha256').update(json).digest('hex');
}
