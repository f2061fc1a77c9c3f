import { z } from 'zod';

export const EXPORT_FORMAT = 'greenapi-archiver-export/1';

const sha256 = z.string().regex(/^[0-9a-f]{64}$/);

export const exportSelectionSchema = z
  .object({
    idInstance: z.string().min(1),
    chatId: z.string().min(1).optional(),
    since: z
      .string()
      .regex(/^\d{4}-\d{2}-\d{2}$/)
      .optional(),
    until: z
      .string()
      .regex(/^\d{4}-\d{2}-\d{2}$/)
      .optional(),
  })
  .strict();
export type ExportSelection = z.infer<typeof exportSelectionSchema>;

/**
 * `manifest.json`, the zip's last entry: the SHA-256 and size of every other entry, and for
 * every archived object in it the S3 key it came from and the path of its custody proof
 * (null when the object was not sealed yet at export time).
 */
export const exportManifestSchema = z
  .object({
    format: z.literal(EXPORT_FORMAT),
    created: z.iso.datetime(),
    selection: exportSelectionSchema,
    chats: z.array(
      z.object({
        chatId: z.string(),
        folder: z.string(),
        transcript: z.string(),
        rsmf: z.string(),
        entries: z.number().int().nonnegative(),
      }),
    ),
    files: z.array(z.object({ path: z.string(), sha256, size: z.number().int().nonnegative() })),
    objects: z.array(
      z.object({
        key: z.string(),
        path: z.string(),
        proof: z.string().nullable(),
      }),
    ),
  })
  .strict();
export type ExportManifest = z.infer<typeof exportManifestSchema>;
