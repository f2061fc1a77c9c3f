import { z } from 'zod';
import { instanceKindSchema } from '@archiver/greenapi';

/**
 * `recorded`: a message without a file (text, edit, deletion, reaction, poll, …), kept as its
 * record alone (docs/conversation.md §2). The other three are a file message's outcomes.
 */
export const SIDECAR_STATUSES = ['archived', 'permanent_failure', 'expired', 'recorded'] as const;
export type SidecarStatus = (typeof SIDECAR_STATUSES)[number];

/** Short reason codes of records without a file (docs/storage.md §3). */
export type FailureCode =
  | 'no_file'
  | 'too_large'
  | 'bad_request'
  | 'download_host_not_allowed'
  | 'invalid_job'
  | 'deadline_passed'
  | 'implausible_timestamp'
  /** The job left the queue without an end; recorded by the sweep (docs/storage.md §6). */
  | 'job_lost'
  /** No worker knew the job's instance (its token) for UNKNOWN_INSTANCE_GRACE_MS. */
  | 'instance_not_configured';

/**
 * The exact bytes the archiver received for a body: their SHA-256 (hex) and length. `exact` is
 * false where no such bytes existed (a journal item or polled notification, re-serialised).
 */
export const receivedSchema = z.object({
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  size: z.number().int().nonnegative(),
  exact: z.boolean(),
});

export type Received = z.infer<typeof receivedSchema>;

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
  kind: instanceKindSchema,
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
  /** The message this one edits, deletes, reacts to, votes in or quotes. */
  stanzaId: z.string().optional(),
  recordedAt: z.string().optional(),
  /** Records written before every body was kept have none. */
  received: receivedSchema.optional(),
  message: z.record(z.string(), z.unknown()),
});

/**
 * An event's record (`…/_events/…json`, `…/_instance/…`): a status, call, instance state or
 * quota notice, with the body as received beside the fields that placed it.
 */
export const eventRecordSchema = z.looseObject({
  record: z.literal('event'),
  idInstance: z.string(),
  kind: instanceKindSchema,
  typeWebhook: z.string(),
  /** UNIX seconds: the event's own time, or when it was received where it names none. */
  timestamp: z.number(),
  timestampFrom: z.enum(['event', 'received']),
  /** Undefined for an event of the instance. */
  chatId: z.string().optional(),
  /** The message a status names, or the call's id. */
  idMessage: z.string().optional(),
  source: z.string(),
  recordedAt: z.string(),
  received: receivedSchema.optional(),
  message: z.record(z.string(), z.unknown()),
});

export type EventRecord = z.infer<typeof eventRecordSchema>;

export type Sidecar = z.infer<typeof sidecarSchema>;
