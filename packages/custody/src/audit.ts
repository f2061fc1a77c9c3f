import { z } from 'zod';
import { sha256Hex } from './entry.js';
import type { Written } from './recorder.js';
import type { CustodyStore } from './custody-store.js';

/**
 * Who did what to the archive: every export, legal hold set or cleared, and every view or
 * download of a file through the review page. Each is a small JSON object in the bucket,
 * written once with the archive's Object Lock and encryption and entered in the custody log
 * like every object the archiver writes, so the next seal vouches for it and `archiver
 * verify` names it if it goes missing (docs/custody.md §6).
 */
export const AUDIT_FORMAT = 'greenapi-archiver-audit/1';

export const auditActionSchema = z.enum(['export', 'hold-set', 'hold-clear', 'view', 'download']);
export type AuditAction = z.infer<typeof auditActionSchema>;

/** Printable text only: an actor or reason is shown to auditors and must not hide anything. */
const printable = (max: number) =>
  z
    .string()
    .min(1)
    .max(max)
    // eslint-disable-next-line no-control-regex -- control characters are what is refused
    .refine((s) => !/[\u0000-\u001f\u007f\u202a-\u202e\u2066-\u2069]/.test(s), {
      message: 'control or bidirectional-override characters',
    });

const day = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'YYYY-MM-DD');

/** What the action was about: an instance, a chat, a day range, one object. */
export const auditSelectionSchema = z
  .object({
    idInstance: z.string().min(1).optional(),
    chatId: z.string().min(1).optional(),
    since: day.optional(),
    until: day.optional(),
    /** One object (a file viewed or downloaded). */
    key: z.string().min(1).optional(),
  })
  .strict();
export type AuditSelection = z.infer<typeof auditSelectionSchema>;

/**
 * An action over many objects (an export, a hold) names how many and the SHA-256 of their
 * sorted key list (a hold's: `key versionId` lines) rather than listing them: the record stays small however large the
 * selection. A handful of keys may be listed as they are.
 */
const MAX_KEYS_LISTED = 100;

export const auditRecordSchema = z
  .object({
    format: z.literal(AUDIT_FORMAT),
    action: auditActionSchema,
    time: z.iso.datetime(),
    actor: printable(200),
    reason: printable(2000).optional(),
    selection: auditSelectionSchema,
    keys: z.array(z.string().min(1)).max(MAX_KEYS_LISTED).optional(),
    /** Count, bytes and digest of what the action covered (e.g. the export's manifest). */
    result: z
      .object({
        objects: z.number().int().nonnegative().optional(),
        bytes: z.number().int().nonnegative().optional(),
        sha256: z
          .string()
          .regex(/^[0-9a-f]{64}$/)
          .optional(),
      })
      .strict()
      .optional(),
  })
  .strict();
export type AuditRecord = z.infer<typeof auditRecordSchema>;

export type AuditInput = Omit<AuditRecord, 'format' | 'time'>;

export type AuditDeps = {
  /** The archive's custody store: PUT once, with Object Lock and encryption. */
  store: CustodyStore;
  /**
   * The custody log's hook (`custodyRecorder(log)`), the same one the worker's object store
   * reports to. Undefined only when custody is off (no SEAL_SIGNING_KEY): the record is
   * still written, and `archiver seal --rescan` enters it once a key is set.
   */
  onWritten?: (w: Written) => Promise<void>;
  now?: () => Date;
};

export class AuditRecordError extends Error {
  override name = 'AuditRecordError';
}

export function auditPrefix(s3Prefix: string): string {
  return `${s3Prefix}_audit/`;
}

/** `{prefix}_audit/{YYYY}/{MM}/{DD}/`: the records of one UTC day, for listing. */
export function auditDayPrefix(s3Prefix: string, date: Date): string {
  const iso = date.toISOString();
  return `${auditPrefix(s3Prefix)}${iso.slice(0, 4)}/${iso.slice(5, 7)}/${iso.slice(8, 10)}/`;
}

/**
 * `…/_audit/{YYYY}/{MM}/{DD}/{HHMMSSmmm}-{action}-{digest16}.json`, digest16 being the first
 * 16 hex digits of the record's SHA-256: the same record always has the same key, two
 * records never share one, and the listing of a day is in time order.
 */
export function auditKey(s3Prefix: string, record: AuditRecord, bytes: Buffer): string {
  const time = new Date(record.time);
  const hms = record.time.slice(11, 23).replace(/[:.]/g, '');
  return `${auditDayPrefix(s3Prefix, time)}${hms}-${record.action}-${sha256Hex(bytes).slice(0, 16)}.json`;
}

/** The record's bytes: compact JSON, fields in the schema's order, one trailing newline. */
export function auditBytes(record: AuditRecord): Buffer {
  return Buffer.from(`${JSON.stringify(auditRecordSchema.parse(record))}\n`);
}

/** Writes one audit record and enters it in the custody log; returns its key and digest. */
export async function writeAuditRecord(
  deps: AuditDeps,
  input: AuditInput,
): Promise<{ key: string; sha256: string; record: AuditRecord }> {
  const now = deps.now ?? (() => new Date());
  const parsed = auditRecordSchema.safeParse({
    format: AUDIT_FORMAT,
    action: input.action,
    time: now().toISOString(),
    actor: input.actor,
    reason: input.reason,
    selection: input.selection,
    keys: input.keys,
    result: input.result,
  });
  if (!parsed.success) {
    throw new AuditRecordError(`audit record: ${z.prettifyError(parsed.error)}`);
  }
  const record = parsed.data;
  const bytes = auditBytes(record);
  const key = auditKey(deps.store.prefix, record, bytes);
  const sha256 = sha256Hex(bytes);
  const put = await deps.store.putOnce(key, bytes, 'application/json');
  // `taken`: the very same record (same bytes, hence same key) is there and entered already.
  if (put.status === 'written') {
    await deps.onWritten?.({ key, versionId: put.versionId, sha256, size: bytes.length });
  }
  return { key, sha256, record };
}

/** Parses an audit object's bytes; throws AuditRecordError when they are not one. */
export function parseAuditRecord(bytes: Buffer | string): AuditRecord {
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString());
  } catch {
    throw new AuditRecordError('audit record: not JSON');
  }
  const parsed = auditRecordSchema.safeParse(json);
  if (!parsed.success) throw new AuditRecordError(`audit record: ${z.prettifyError(parsed.error)}`);
  return parsed.data;
}

/** The actor of a CLI run: `--actor`, else $USER; never empty. */
export function defaultActor(explicit: string | undefined, env = process.env): string {
  return explicit ?? env.USER ?? env.LOGNAME ?? 'unknown';
}
