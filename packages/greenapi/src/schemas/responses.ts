import { z } from 'zod';
import { timestampSchema } from './common.js';

export const downloadFileResponseSchema = z.looseObject({ downloadUrl: z.string().min(1) });

/**
 * Journal items carry the file fields flat, not nested (docs/greenapi.md §8). Only what the
 * archiver needs is required.
 */
export const journalItemSchema = z.looseObject({
  type: z.enum(['incoming', 'outgoing']),
  idMessage: z.string().min(1),
  timestamp: timestampSchema,
  typeMessage: z.string().min(1),
  chatId: z.string().min(1),
  downloadUrl: z.string().optional(),
  caption: z.string().optional(),
  fileName: z.string().optional(),
  jpegThumbnail: z.string().optional(),
  mimeType: z.string().optional(),
  senderId: z.string().optional(),
  senderName: z.string().optional(),
  senderContactName: z.string().optional(),
  sendByApi: z.boolean().optional(),
});

/**
 * A journal read keeps every item it understands: one odd entry must not hide the rest (the
 * same run would fail on it forever). `invalid` counts what was left out.
 */
export type JournalItem = z.infer<typeof journalItemSchema>;
export type JournalPage = JournalItem[] & { invalid: number };

export const journalResponseSchema = z.array(z.unknown()).transform((items) => {
  const valid: JournalItem[] = [];
  let invalid = 0;
  for (const item of items) {
    const parsed = journalItemSchema.safeParse(item);
    if (parsed.success) valid.push(parsed.data);
    else invalid += 1;
  }
  return Object.assign(valid, { invalid });
});

/** `receiveNotification` answers `null` when the queue is empty. */
export const notificationResponseSchema = z
  .looseObject({ receiptId: z.number().int(), body: z.unknown() })
  .nullable();

export const deleteNotificationResponseSchema = z.looseObject({ result: z.boolean() });

export type DownloadFileResponse = z.infer<typeof downloadFileResponseSchema>;
export type Notification = NonNullable<z.infer<typeof notificationResponseSchema>>;
