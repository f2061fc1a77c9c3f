import { z } from 'zod';
import { idInstanceString } from '@archiver/greenapi';

/**
 * Everything the review page takes from a URL, checked before it reaches an S3 key: a value
 * that could name another prefix (a `/`, a `..`, a leading `_` of the archiver's own
 * folders, a control character) is refused with 400, never passed on.
 */
export const kindSchema = z.enum(['whatsapp', 'max']);

/** A key segment as keys.ts writes it: no separator, no dot segment, not the archiver's `_…`. */

const segment = z
  .string()
  .min(1)
  .max(200)
  .regex(
    // eslint-disable-next-line no-control-regex -- control characters are what is refused
    /^[^/\\_\u0000-\u001f\u007f\u202a-\u202e\u2066-\u2069][^/\\\u0000-\u001f\u007f\u202a-\u202e\u2066-\u2069]*$/u,
  )
  .refine((s) => s !== '.' && s !== '..', 'not a dot segment');

export const chatIdSchema = segment;

export const daySchema = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'YYYY-MM-DD')
  // Zod runs the refinement even when the pattern failed (an empty form field): no throw here.
  .refine((d) => {
    const t = new Date(`${d}T00:00:00Z`);
    return !Number.isNaN(t.getTime()) && t.toISOString().startsWith(d);
  }, 'a real date');

export const chatParams = z.object({
  kind: kindSchema,
  instance: idInstanceString,
  chat: chatIdSchema,
});

export const dayParams = chatParams.extend({ date: daySchema });

export const fileParams = dayParams.extend({ idMessage: segment, name: segment });

const optionalDay = z
  .union([daySchema, z.literal('')])
  .optional()
  .transform((d) => d || undefined);

/** Search: text (trimmed, 1–200 characters) within an optional day range. */
export const searchQuery = z.object({
  q: z.string().trim().min(1).max(200),
  since: optionalDay,
  until: optionalDay,
});

/** The export form: an optional day range and the reason, as the audit record takes it. */
export const exportQuery = z
  .object({
    since: optionalDay,
    until: optionalDay,
    reason: z
      .string()
      .trim()
      .max(2000)
      // eslint-disable-next-line no-control-regex -- the audit record refuses them too
      .regex(/^[^\u0000-\u001f\u007f\u202a-\u202e\u2066-\u2069]*$/u, 'printable text')
      .optional()
      .transform((r) => r || undefined),
  })
  .refine((q) => !q.since || !q.until || q.since <= q.until, 'since: after until');
