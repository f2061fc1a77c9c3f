import { z } from 'zod';

/**
 * The one definition of an instance id. Green-API issues digits (10 today) and sends them as
 * a JSON integer; the archiver keeps them as strings everywhere (MAX message ids already
 * exceed 2^53, and one representation avoids mixing). 20 digits bound what a key may hold.
 */
export const ID_INSTANCE_PATTERN = /^\d{1,20}$/;

/** An id as text: configuration, CLI flags, Redis and S3 keys. */
export const idInstanceString = z.string().regex(ID_INSTANCE_PATTERN, 'an idInstance is digits');

/** An id as Green-API or an operator may write it in JSON (integer or text), as its text. */
export const idInstanceSchema = z
  .union([z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER), idInstanceString])
  .transform((value) => String(value));

/** The two products an instance serves: WhatsApp, or MAX (`typeInstance` `v3`, docs/greenapi.md §2). */
export const instanceKindSchema = z.enum(['whatsapp', 'max']);

export type InstanceKind = z.infer<typeof instanceKindSchema>;

/** `value` as an instance id's text, or undefined when it is not one. */
export function parseIdInstance(value: unknown): string | undefined {
  const parsed = idInstanceSchema.safeParse(value);
  return parsed.success ? parsed.data : undefined;
}

export const instanceDataSchema = z.looseObject({
  idInstance: idInstanceSchema,
  wid: z.string().optional(),
  /** `whatsapp`, `v3` (MAX) or `telegram`; other values are kept as they come. */
  typeInstance: z.string().optional(),
});

/** UNIX seconds. */
export const timestampSchema = z.number().int().nonnegative();

export type InstanceData = z.infer<typeof instanceDataSchema>;
