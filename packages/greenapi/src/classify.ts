import type { z } from 'zod';
import { parseIdInstance, type InstanceKind } from './schemas/common.js';
import {
  FILE_MESSAGE_TYPES,
  MESSAGE_WEBHOOK_TYPES,
  OTHER_WEBHOOK_TYPES,
  TOO_LARGE_MARKER,
  messageWebhookSchema,
  otherWebhookSchema,
  type FileMessageData,
  type MessageWebhook,
  type OtherWebhook,
} from './schemas/webhooks.js';

/**
 * What a webhook body is, as far as archiving goes: a file to download (and record), any other
 * message to record, an event to record beside the chat's messages, or a shape nobody knows.
 */
export type Classification =
  | {
      kind: 'file';
      webhook: MessageWebhook;
      file: FileMessageData;
      /** `{{SWE002}}`: Green-API could not fetch the file (> 100 MB); nothing to download. */
      tooLarge: boolean;
    }
  /** Every other typeMessage, known or not: text, edits, deletions, reactions, polls, … */
  | { kind: 'message'; webhook: MessageWebhook }
  /** `chatId` is the chat it belongs to; undefined for an event of the instance. */
  | { kind: 'event'; event: OtherWebhook; chatId: string | undefined }
  | { kind: 'unrecognised'; reason: string; typeWebhook?: string; idInstance?: string };

const messageTypes = new Set<string>(MESSAGE_WEBHOOK_TYPES);
const otherTypes = new Set<string>(OTHER_WEBHOOK_TYPES);
const fileTypes = new Set<string>(FILE_MESSAGE_TYPES);

export function isFileMessageType(typeMessage: string): boolean {
  return fileTypes.has(typeMessage);
}

/** `typeInstance` is `v3` for MAX (docs/greenapi.md §2); everything else is served like WhatsApp. */
export function kindFromTypeInstance(typeInstance: string | undefined): InstanceKind {
  return typeInstance === 'v3' || typeInstance === 'max' ? 'max' : 'whatsapp';
}

/**
 * Reads `instanceData.idInstance` without validating the rest, so a body can be
 * authenticated before (and whether or not) it is recognised.
 */
export function peekIdInstance(body: unknown): string | undefined {
  if (!isRecord(body) || !isRecord(body.instanceData)) return undefined;
  return parseIdInstance(body.instanceData.idInstance);
}

export function classifyWebhook(body: unknown): Classification {
  const idInstance = peekIdInstance(body);
  if (!isRecord(body) || typeof body.typeWebhook !== 'string') {
    return { kind: 'unrecognised', reason: 'no typeWebhook', idInstance };
  }
  const typeWebhook = body.typeWebhook;
  if (messageTypes.has(typeWebhook)) return classifyMessage(body, typeWebhook, idInstance);
  if (otherTypes.has(typeWebhook)) {
    const parsed = otherWebhookSchema.safeParse(body);
    return parsed.success
      ? { kind: 'event', event: parsed.data, chatId: parsed.data.chatId ?? parsed.data.from }
      : { kind: 'unrecognised', reason: describeIssues(parsed.error), typeWebhook, idInstance };
  }
  return { kind: 'unrecognised', reason: 'unknown typeWebhook', typeWebhook, idInstance };
}

function classifyMessage(
  body: Record<string, unknown>,
  typeWebhook: string,
  idInstance: string | undefined,
): Classification {
  const parsed = messageWebhookSchema.safeParse(body);
  if (!parsed.success) {
    return { kind: 'unrecognised', reason: describeIssues(parsed.error), typeWebhook, idInstance };
  }
  const webhook = parsed.data;
  const file = webhook.messageData.fileMessageData;
  if (file) {
    return { kind: 'file', webhook, file, tooLarge: file.downloadUrl.trim() === TOO_LARGE_MARKER };
  }
  // A file type without its payload is a shape we do not know: keep it for inspection
  // rather than silently dropping what may be a file.
  if (isFileMessageType(webhook.messageData.typeMessage)) {
    return {
      kind: 'unrecognised',
      reason: `${webhook.messageData.typeMessage} without fileMessageData`,
      typeWebhook,
      idInstance,
    };
  }
  return { kind: 'message', webhook };
}

function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 3)
    .map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`)
    .join('; ');
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
