import { z } from 'zod';

/**
 * Green-API sends `idInstance` as a JSON integer. Ids are kept as strings everywhere in the
 * archiver: MAX message ids already exceed 2^53, and one representation avoids mixing.
 */
export const idInstanceSchema = z
  .union([
    z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
    z.string().regex(/^\d{1,20}$/),
  ])
  .transform((value) => String(value));

export const instanceDataSchema = z.looseObject({
  idInstance: idInstanceSchema,
  wid: z.string().optional(),
  /** `whatsapp`, `v3` (MAX) or `telegram`; other values are kept as they come. */
  typeInstance: z.string().optional(),
});

/** UNIX seconds. */
export const timestampSchema = z.number().int().nonnegative();

export type InstanceData = z.infer<typeof instanceDataSchema>;
