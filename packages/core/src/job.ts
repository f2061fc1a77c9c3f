import { createHash } from 'node:crypto';
import type { z } from 'zod';
import {
  TOO_LARGE_MARKER,
  journalItemSchema,
  kindFromTypeInstance,
  messageWebhookSchema,
  type InstanceKind,
  type JournalItem,
  type MessageWebhook,
} from '@archiver/greenapi';
import type { InstanceConfig } from './instances.js';
import { archiveJobSchema, type ArchiveJobData, type JobSource } from './job-catalog.js';
import { keepMessage, readKeptMessage } from './kept-message.js';
import { STATUS_CHAT } from './object-keys.js';

/** The facts of the file, as read from the kept body. */
export type ArchiveFileFacts = {
  idInstance: string;
  chatId: string;
  idMessage: string;
  /** Message time, UNIX seconds. */
  timestamp: number;
  typeWebhook: string;
  typeMessage: string;
  fileName?: string;
  mimeType?: string;
  /** `{{SWE002}}`: Green-API could not fetch the file; recorded, never downloaded. */
  tooLarge: boolean;
  /**
   * A status: kept under the chat `status@broadcast` (`chatId`), asked of downloadFile by
   * the chat Green-API lists it with, and its own link (as kept: no query string) to fall
   * back on when downloadFile does not know statuses (undocumented either way).
   */
  status?: { chatId: string; link?: string };
};

/** A job as the archiver works with it: its stored data with the facts of its file. */
export type ArchiveJob = ArchiveJobData & ArchiveFileFacts;

/** What goes into Redis for `job`: the facts stay in the kept body. */
export function storedJobData(job: ArchiveJob): ArchiveJobData {
  const data: ArchiveJobData = {
    source: job.source,
    kind: job.kind,
    message: job.message,
    receivedAt: job.receivedAt,
  };
  if (job.source === 'journal' || job.source === 'statuses') data.idInstance = job.idInstance;
  if (job.lastError !== undefined) data.lastError = job.lastError;
  if (job.graceUntil !== undefined) data.graceUntil = job.graceUntil;
  if (job.slotAt !== undefined) data.slotAt = job.slotAt;
  if (job.received !== undefined) data.received = job.received;
  return data;
}

/** A job's data as the worker reads it: validated, its kept body unpacked, its facts read. */
export function readArchiveJob(
  raw: unknown,
): { ok: true; data: ArchiveJob; message: Record<string, unknown> } | { ok: false; error: string } {
  const parsed = archiveJobSchema.safeParse(raw);
  if (!parsed.success) return { ok: false, error: firstIssue(parsed.error) };
  const message = readKeptMessage(parsed.data.message);
  if (!message) return { ok: false, error: 'message: not a readable kept body' };
  const facts = factsOf(parsed.data, message);
  if (!facts.ok) return facts;
  return { ok: true, data: { ...parsed.data, ...facts.facts }, message };
}

function factsOf(
  data: ArchiveJobData,
  message: Record<string, unknown>,
): { ok: true; facts: ArchiveFileFacts } | { ok: false; error: string } {
  if (data.source === 'journal' || data.source === 'statuses') {
    if (data.idInstance === undefined) return { ok: false, error: 'idInstance: missing' };
    const item = journalItemSchema.safeParse(message);
    if (!item.success) return { ok: false, error: `message: ${firstIssue(item.error)}` };
    const facts = journalFacts(data.idInstance, item.data);
    return { ok: true, facts: data.source === 'statuses' ? statusFacts(facts, item.data) : facts };
  }
  const webhook = messageWebhookSchema.safeParse(message);
  if (!webhook.success) return { ok: false, error: `message: ${firstIssue(webhook.error)}` };
  return { ok: true, facts: webhookFacts(webhook.data) };
}

/** The first thing wrong with a job's data, where it is: for the failed job's reason. */
export function firstIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  return issue ? `${issue.path.join('.') || '(root)'}: ${issue.message}` : 'invalid data';
}

/**
 * One file = one job id: (idInstance, chatId, idMessage), since idMessage is unique only
 * within a chat (docs/greenapi.md §2). Hashed because BullMQ ids may not contain `:` and chat ids
 * are long; the instance stays readable for operators.
 */
export function archiveJobId(idInstance: string, chatId: string, idMessage: string): string {
  // 22 base64url characters = 132 bits: collisions are out of reach, and the id is stored
  // several times per job (hash key, sorted sets, events).
  const digest = createHash('sha256')
    .update(`${idInstance}\n${chatId}\n${idMessage}`)
    .digest('base64url');
  return `${idInstance}-${digest.slice(0, 22)}`;
}

/** An instance's configured kind wins over the webhook's typeInstance (docs/architecture.md §2). */
export function resolveKind(
  instance: Pick<InstanceConfig, 'kind'> | undefined,
  typeInstance: string | undefined,
): InstanceKind {
  return instance?.kind ?? kindFromTypeInstance(typeInstance);
}

/**
 * The job for a file webhook. `body` is the webhook as received; `webhook` its parse (the
 * caller has classified it), from which the facts come without a second parse. The worker
 * reads the same facts back from the kept body (`readArchiveJob`).
 */
export function jobFromWebhook(
  body: unknown,
  webhook: MessageWebhook,
  kind: InstanceKind,
  source: Exclude<JobSource, 'journal'>,
  now = Date.now(),
): ArchiveJob {
  return { source, kind, message: keepMessage(body), receivedAt: now, ...webhookFacts(webhook) };
}

function webhookFacts(webhook: MessageWebhook): ArchiveFileFacts {
  const file = webhook.messageData.fileMessageData;
  return {
    idInstance: webhook.instanceData.idInstance,
    chatId: webhook.senderData.chatId,
    idMessage: webhook.idMessage,
    timestamp: webhook.timestamp,
    typeWebhook: webhook.typeWebhook,
    typeMessage: webhook.messageData.typeMessage,
    fileName: nonEmpty(file?.fileName),
    mimeType: nonEmpty(file?.mimeType),
    tooLarge: file?.downloadUrl.trim() === TOO_LARGE_MARKER,
  };
}

/** Journal items carry file fields flat (docs/greenapi.md §8), and no instance id. */
export function jobFromJournal(
  idInstance: string,
  kind: InstanceKind,
  item: JournalItem,
  now = Date.now(),
): ArchiveJob {
  return {
    source: 'journal',
    kind,
    message: keepMessage(item),
    receivedAt: now,
    ...journalFacts(idInstance, item),
  };
}

/** A media status from getIncoming/OutgoingStatuses: a journal item kept under STATUS_CHAT. */
export function jobFromStatus(
  idInstance: string,
  kind: InstanceKind,
  item: JournalItem,
  now = Date.now(),
): ArchiveJob {
  return {
    source: 'statuses',
    kind,
    message: keepMessage(item),
    receivedAt: now,
    ...statusFacts(journalFacts(idInstance, item), item),
  };
}

function statusFacts(facts: ArchiveFileFacts, item: JournalItem): ArchiveFileFacts {
  const link = nonEmpty(item.downloadUrl);
  return {
    ...facts,
    chatId: STATUS_CHAT,
    status: { chatId: item.chatId, ...(link === undefined ? {} : { link }) },
  };
}

function journalFacts(idInstance: string, item: JournalItem): ArchiveFileFacts {
  return {
    idInstance,
    chatId: item.chatId,
    idMessage: item.idMessage,
    timestamp: item.timestamp,
    typeWebhook: journalTypeWebhook(item),
    typeMessage: item.typeMessage,
    fileName: nonEmpty(item.fileName),
    mimeType: nonEmpty(item.mimeType),
    tooLarge: nonEmpty(item.downloadUrl)?.trim() === TOO_LARGE_MARKER,
  };
}

/** The webhook a journal item stands for: journals list incoming and outgoing messages. */
export function journalTypeWebhook(item: Pick<JournalItem, 'type'>): string {
  return item.type === 'incoming' ? 'incomingMessageReceived' : 'outgoingMessageReceived';
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}
