import type { ArchiveJob, FailureCode, Sidecar } from '@archiver/core';

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
