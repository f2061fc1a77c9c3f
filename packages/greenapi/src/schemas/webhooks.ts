import { z } from 'zod';
import { instanceDataSchema, timestampSchema } from './common.js';

/** Webhook types whose body may carry a file (docs/greenapi.md §2.1). */
export const MESSAGE_WEBHOOK_TYPES = [
  'incomingMessageReceived',
  'outgoingMessageReceived',
  'outgoingAPIMessageReceived',
] as const;

/**
 * Known types that are not messages: each is kept as an event of its chat (`chatId`, or `from`
 * for calls) or of the instance when it names no chat (docs/conversation.md §3).
 */
export const OTHER_WEBHOOK_TYPES = [
  'outgoingMessageStatus',
  'stateInstanceChanged',
  'statusInstanceChanged',
  'deviceInfo',
  'incomingCall',
  'outgoingCall',
  'incomingBlock',
  'quotaExceeded',
] as const;

/** typeMessage values documented with a `fileMessageData` payload (docs/greenapi.md §3.1). */
export const FILE_MESSAGE_TYPES = [
  'imageMessage',
  'videoMessage',
  'documentMessage',
  'audioMessage',
  'stickerMessage',
] as const;

/**
 * typeMessage values documented for the three message webhooks (docs/greenapi.md §12). Only
 * used to name and count them: a value not listed here is kept all the same.
 */
export const KNOWN_MESSAGE_TYPES = [
  'textMessage',
  'extendedTextMessage',
  'quotedMessage',
  ...FILE_MESSAGE_TYPES,
  'locationMessage',
  'contactMessage',
  'contactsArrayMessage',
  'buttonsMessage',
  'listMessage',
  'templateMessage',
  'buttonsResponseMessage',
  'listResponseMessage',
  'templateButtonsReplyMessage',
  'groupInviteMessage',
  'reactionMessage',
  'pollMessage',
  'pollUpdateMessage',
  'editedMessage',
  'deletedMessage',
  'interactiveButtons',
  'interactiveButtonsReply',
  'interactiveButtonReply',
] as const;

export type MessageWebhookType = (typeof MESSAGE_WEBHOOK_TYPES)[number];
export type OtherWebhookType = (typeof OTHER_WEBHOOK_TYPES)[number];
export type FileMessageType = (typeof FILE_MESSAGE_TYPES)[number];

/** Marker Green-API puts in `downloadUrl` when a file over 100 MB could not be fetched. */
export const TOO_LARGE_MARKER = '{{SWE002}}';

/** Every field but `downloadUrl` is optional: old and new documented samples differ. */
export const fileMessageDataSchema = z.looseObject({
  downloadUrl: z.string(),
  caption: z.string().optional(),
  fileName: z.string().optional(),
  jpegThumbnail: z.string().optional(),
  mimeType: z.string().optional(),
  isForwarded: z.boolean().optional(),
  forwardingScore: z.number().optional(),
  isAnimated: z.boolean().optional(),
  videoNote: z.boolean().optional(),
});

export const senderDataSchema = z.looseObject({
  chatId: z.string().min(1),
  sender: z.string().optional(),
  chatName: z.string().optional(),
  senderName: z.string().optional(),
  senderContactName: z.string().optional(),
  senderPhoneNumber: z.union([z.number(), z.string()]).optional(),
});

export const messageWebhookSchema = z.looseObject({
  typeWebhook: z.enum(MESSAGE_WEBHOOK_TYPES),
  instanceData: instanceDataSchema,
  timestamp: timestampSchema,
  idMessage: z.string().min(1),
  senderData: senderDataSchema,
  messageData: z.looseObject({
    typeMessage: z.string().min(1),
    fileMessageData: fileMessageDataSchema.optional(),
    quotedMessage: z.looseObject({}).optional(),
  }),
});

/**
 * The envelope shared by the other types. Only what places the event is read: its chat
 * (`chatId` for statuses, `from` for calls) and the message it names; the rest is kept as it
 * came. A chat or id of the wrong type is a shape we do not know (quarantined).
 */
export const otherWebhookSchema = z.looseObject({
  typeWebhook: z.enum(OTHER_WEBHOOK_TYPES),
  instanceData: instanceDataSchema,
  timestamp: timestampSchema.optional(),
  chatId: z.string().min(1).optional(),
  from: z.string().min(1).optional(),
  idMessage: z.string().min(1).optional(),
});

export type FileMessageData = z.infer<typeof fileMessageDataSchema>;
export type MessageWebhook = z.infer<typeof messageWebhookSchema>;
export type OtherWebhook = z.infer<typeof otherWebhookSchema>;
