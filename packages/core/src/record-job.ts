import { createHash } from 'node:crypto';
import { Queue, type JobsOptions, type Telemetry } from 'bullmq';
import type { RedisClient } from './redis.js';
import { z } from 'zod';
import {
  referenceOf,
  type InstanceKind,
  type JournalItem,
  type MessageWebhook,
  type OtherWebhook,
} from '@archiver/greenapi';
import { archiveJobId } from './job.js';
import { eventKey, objectKeys } from './keys.js';
import { keepMessage, readKeptMessage } from './kept-message.js';
import { receivedSchema, type Received } from './sidecar.js';

/**
 * Records have a queue of their own: writing one is a single S3 PUT, with no Green-API call,
 * rate budget or deadline, so it must not wait behind a backlog of file downloads (which the
 * archive queue orders by deadline) nor hold one up.
 */
export const RECORD_QUEUE = 'records';
export const RECORD_JOB = 'record-event';

/**
 * What the worker needs to write one record: where it goes (validated here, so the worker
 * builds keys only from checked fields) and the body, packed as file jobs pack it. No secret,
 * no thumbnail. `record: 'message'` is a message without a file (its `message.json`);
 * `event` is a status, call, instance state or quota notice (docs/conversation.md §3).
 */
export const recordJobSchema = z
  .object({
    record: z.enum(['message', 'event']),
    source: z.enum(['webhook', 'poll', 'journal', 'replay']),
    idInstance: z.string().regex(/^\d+$/),
    kind: z.enum(['whatsapp', 'max']),
    typeWebhook: z.string().min(1),
    /** Messages: always. Events: the chat they belong to; undefined for the instance's. */
    chatId: z.string().min(1).optional(),
    /** Messages: the message's id. Events: the id they name (a status's message, a call). */
    idMessage: z.string().min(1).optional(),
    typeMessage: z.string().min(1).optional(),
    stanzaId: z.string().min(1).optional(),
    /** UNIX seconds: the event's time, or when it was received where it names none. */
    timestamp: z.number().int().nonnegative(),
    timestampFrom: z.enum(['event', 'received']).optional(),
    /** Events: hex SHA-256 of the kept body, which names the event's key. */
    digest: z
      .string()
      .regex(/^[0-9a-f]{64}$/)
      .optional(),
    message: z.string(),
    receivedAt: z.number(),
    received: receivedSchema.optional(),
  })
  .refine((d) => d.record === 'event' || (d.chatId && d.idMessage && d.typeMessage), {
    message: 'a message record needs chatId, idMessage and typeMessage',
  })
  .refine((d) => d.record === 'message' || d.digest, { message: 'an event needs its digest' });

export type RecordJobData = z.infer<typeof recordJobSchema>;
type Source = RecordJobData['source'];

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
  source: Source,
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
  source: Source,
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
    typeWebhook: item.type === 'incoming' ? 'incomingMessageReceived' : 'outgoingMessageReceived',
    chatId: item.chatId,
    idMessage: item.idMessage,
    typeMessage: item.typeMessage,
    stanzaId: referenceOf(item as Record<string, unknown>)?.stanzaId,
    timestamp: item.timestamp,
    message: keepMessage(item),
    receivedAt: now,
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

/** Retried with backoff until written: nothing about a record expires. */
const RECORD_ATTEMPTS = 100_000;

export type RecordQueue = Queue<RecordJobData, unknown, string>;

export function createRecordQueue(
  connection: RedisClient,
  prefix: string,
  telemetry?: Telemetry,
): RecordQueue {
  return new Queue<RecordJobData, unknown, string>(RECORD_QUEUE, {
    connection,
    prefix,
    telemetry,
    streams: { events: { maxLen: 1000 } },
  });
}

export function recordJobRequest(data: RecordJobData): {
  name: string;
  data: RecordJobData;
  opts: JobsOptions & { jobId: string };
} {
  return {
    name: RECORD_JOB,
    data,
    opts: {
      jobId: recordJobId(data),
      attempts: RECORD_ATTEMPTS,
      // The worker's backoff strategy: exponential with jitter, capped (RETRY_*_DELAY_MS).
      backoff: { type: 'capped' },
      // Gone at once: the record in S3 is the durable proof, and a duplicate after that is
      // answered by the write-once record (nothing changes). Queued jobs alone cost Redis.
      removeOnComplete: true,
    },
  };
}
