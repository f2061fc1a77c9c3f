import { createHash } from 'node:crypto';
import { z } from 'zod';
import {
  TOO_LARGE_MARKER,
  kindFromTypeInstance,
  type InstanceKind,
  type JournalItem,
  type MessageWebhook,
} from '@archiver/greenapi';
import type { InstanceConfig } from './instances.js';
import { keepMessage, readKeptMessage } from './kept-message.js';

export const ARCHIVE_JOB = 'archive-file';

/**
 * What the worker needs to archive one file, and nothing secret: no token, no thumbnail.
 * `message` is the original webhook body (or journal item) without base64 thumbnails, kept
 * for the sidecar, packed (kept-message.ts; jobs queued before that hold the object). The
 * webhook's link is not copied out of it: the worker always asks downloadFile for a fresh
 * one, and every queued byte costs Redis memory.
 */
export const archiveJobSchema = z.object({
  source: z.enum(['webhook', 'poll', 'journal', 'replay']),
  idInstance: z.string().regex(/^\d+$/),
  kind: z.enum(['whatsapp', 'max']),
  chatId: z.string().min(1),
  idMessage: z.string().min(1),
  /** Message time, UNIX seconds. */
  timestamp: z.number().int().nonnegative(),
  typeWebhook: z.string(),
  typeMessage: z.string(),
  fileName: z.string().optional(),
  mimeType: z.string().optional(),
  /** `{{SWE002}}`: Green-API could not fetch the file; recorded, never downloaded. */
  tooLarge: z.boolean(),
  message: z.union([z.string(), z.record(z.string(), z.unknown())]),
  /** When the archiver first saw it (ms). */
  receivedAt: z.number(),
  /** The last transient error, kept so an `expired` record can say why. */
  lastError: z.string().optional(),
  /**
   * Set by `archiver retry-failed`: the job may run until then even past its deadline
   * (Green-API may still hold a file whose window is not published, as on WhatsApp).
   */
  graceUntil: z.number().optional(),
  /** A downloadFile slot reserved in the rate limiter (Redis clock, ms), kept across a delay. */
  slotAt: z.number().optional(),
});

export type ArchiveJobData = z.infer<typeof archiveJobSchema>;

/** A job's data as the worker reads it: validated, with its kept body unpacked. */
export function readArchiveJob(
  raw: unknown,
):
  | { ok: true; data: ArchiveJobData; message: Record<string, unknown> }
  | { ok: false; error: string } {
  const parsed = archiveJobSchema.safeParse(raw);
  if (!parsed.success) {
    return { ok: false, error: parsed.error.issues[0]?.message ?? 'invalid data' };
  }
  const message = readKeptMessage(parsed.data.message);
  if (!message) return { ok: false, error: 'message: not a readable kept body' };
  return { ok: true, data: parsed.data, message };
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

export function jobFromWebhook(
  webhook: MessageWebhook,
  kind: InstanceKind,
  source: 'webhook' | 'poll' | 'replay',
  now = Date.now(),
): ArchiveJobData {
  const file = webhook.messageData.fileMessageData;
  return {
    source,
    idInstance: webhook.instanceData.idInstance,
    kind,
    chatId: webhook.senderData.chatId,
    idMessage: webhook.idMessage,
    timestamp: webhook.timestamp,
    typeWebhook: webhook.typeWebhook,
    typeMessage: webhook.messageData.typeMessage,
    fileName: nonEmpty(file?.fileName),
    mimeType: nonEmpty(file?.mimeType),
    tooLarge: file?.downloadUrl.trim() === TOO_LARGE_MARKER,
    message: keepMessage(webhook),
    receivedAt: now,
  };
}

/** Journal items carry file fields flat (docs/greenapi.md §8). */
export function jobFromJournal(
  idInstance: string,
  kind: InstanceKind,
  item: JournalItem,
  now = Date.now(),
): ArchiveJobData {
  const downloadUrl = nonEmpty(item.downloadUrl);
  return {
    source: 'journal',
    idInstance,
    kind,
    chatId: item.chatId,
    idMessage: item.idMessage,
    timestamp: item.timestamp,
    typeWebhook: item.type === 'incoming' ? 'incomingMessageReceived' : 'outgoingMessageReceived',
    typeMessage: item.typeMessage,
    fileName: nonEmpty(item.fileName),
    mimeType: nonEmpty(item.mimeType),
    tooLarge: downloadUrl?.trim() === TOO_LARGE_MARKER,
    message: keepMessage(item),
    receivedAt: now,
  };
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}
