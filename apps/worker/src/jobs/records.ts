import type {
  ArchiveJob,
  EventRecord,
  FailureCode,
  JobIdentity,
  RecordJobData,
  Sidecar,
} from '@archiver/core';
import { referenceOf } from '@archiver/greenapi';

/** `message`: the job's kept body, unpacked (readKeptMessage). */
type Common = { data: ArchiveJob; message: Record<string, unknown>; attempts: number };

function base({ data, message, attempts }: Common) {
  return {
    idInstance: data.idInstance,
    chatId: data.chatId,
    idMessage: data.idMessage,
    kind: data.kind,
    typeWebhook: data.typeWebhook,
    typeMessage: data.typeMessage,
    timestamp: data.timestamp,
    fileName: data.fileName,
    attempts,
    source: data.source,
    stanzaId: stanzaIdOf(message),
    received: data.received,
    message,
  };
}

/** A quoted file (a reply with an image) names the message it answers, as a text would. */
function stanzaIdOf(message: Record<string, unknown>): string | undefined {
  const messageData = message.messageData;
  if (typeof messageData !== 'object' || messageData === null) return undefined;
  return referenceOf(messageData as Record<string, unknown>)?.stanzaId;
}

type RecordCommon = { data: RecordJobData; message: Record<string, unknown>; attempts: number };

/** The record of a message without a file: `message.json`, as a file's, with no object. */
export function messageRecord({ data, message, attempts }: RecordCommon): Sidecar {
  return {
    status: 'recorded',
    idInstance: data.idInstance,
    chatId: data.chatId ?? '',
    idMessage: data.idMessage ?? '',
    kind: data.kind,
    typeWebhook: data.typeWebhook,
    typeMessage: data.typeMessage ?? '',
    timestamp: data.timestamp,
    stanzaId: data.stanzaId,
    attempts,
    source: data.source,
    recordedAt: new Date().toISOString(),
    received: data.received,
    message,
  };
}

/** The record of an event: a status, a call, an instance's state or quota notice. */
export function eventRecord({ data, message }: RecordCommon): EventRecord {
  return {
    record: 'event',
    idInstance: data.idInstance,
    kind: data.kind,
    typeWebhook: data.typeWebhook,
    timestamp: data.timestamp,
    timestampFrom: data.timestampFrom ?? 'event',
    chatId: data.chatId,
    idMessage: data.idMessage,
    source: data.source,
    recordedAt: new Date().toISOString(),
    received: data.received,
    message,
  };
}

/** The proof of an archived file (docs/storage.md §3). */
export function archivedRecord(
  c: Common & { key: string; sha256: string; size: number; contentType: string },
): Sidecar {
  return {
    status: 'archived',
    ...base(c),
    key: c.key,
    sha256: c.sha256,
    size: c.size,
    contentType: c.contentType,
    archivedAt: new Date().toISOString(),
  };
}

/** The record of a file that could not be had, and why: it names no object, only where it would be. */
export function failureRecord(
  c: Common & {
    status: 'permanent_failure' | 'expired';
    code: FailureCode;
    error: string;
    intendedKey: string;
  },
): Sidecar {
  return {
    status: c.status,
    reason: { code: c.code, error: c.error },
    ...base(c),
    intendedKey: c.intendedKey,
    endedAt: new Date().toISOString(),
  };
}

/**
 * The record of a job that left the queue without an end (docs/storage.md §6), written by
 * the lost-job sweep from the identity indexed beside the job's deadline. The body and the
 * attempts went with the job: `message` is empty and `attempts` 0.
 */
export function lostJobRecord(identity: JobIdentity, intendedKey: string): Sidecar {
  return {
    status: 'permanent_failure',
    reason: {
      code: 'job_lost',
      error:
        'the job left the queue without an end (removed by hand, or lost with Redis data); found by the lost-job sweep',
    },
    idInstance: identity.idInstance,
    chatId: identity.chatId,
    idMessage: identity.idMessage,
    kind: identity.kind,
    typeWebhook: identity.typeWebhook,
    typeMessage: identity.typeMessage,
    timestamp: identity.timestamp,
    fileName: identity.fileName,
    attempts: 0,
    source: identity.source,
    message: {},
    intendedKey,
    endedAt: new Date().toISOString(),
  };
}
