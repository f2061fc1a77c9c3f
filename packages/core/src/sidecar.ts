import { z } from 'zod';

export const SIDECAR_STATUSES = ['archived', 'permanent_failure', 'expired'] as const;
export type SidecarStatus = (typeof SIDECAR_STATUSES)[number];

/** Short reason codes of records without a file (docs/storage.md §3). */
export type FailureCode =
  | 'no_file'
  | 'too_large'
  | 'bad_request'
  | 'download_host_not_allowed'
  | 'invalid_job'
  | 'deadline_passed'
  | 'implausible_timestamp';

/**
 * `message.json`: the proof of what was archived, or of why not. Readers (verify, report)
 * parse it with this schema; extra fields are tolerated so older records stay readable.
 */
export const sidecarSchema = z.looseObject({
  status: z.enum(SIDECAR_STATUSES),
  reason: z.object({ code: z.string(), error: z.string().optional() }).optional(),
  idInstance: z.string(),
  chatId: z.string(),
  idMessage: z.string(),
  kind: z.enum(['whatsapp', 'max']),
  typeWebhook: z.string(),
  typeMessage: z.string(),
  timestamp: z.number(),
  fileName: z.string().optional(),
  key: z.string().optional(),
  intendedKey: z.string().optional(),
  sha256: z.string().optional(),
  size: z.number().optional(),
  contentType: z.string().optional(),
  attempts: z.number(),
  archivedAt: z.string().optional(),
  endedAt: z.string().optional(),
  source: z.string().optional(),
  message: z.record(z.string(), z.unknown()),
});

export type Sidecar = z.infer<typeof sidecarSchema>;
