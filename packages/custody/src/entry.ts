import { createHash } from 'node:crypto';
import { z } from 'zod';

/**
 * One object the archiver wrote: what a seal lists and a proof starts from. `versionId` is
 * S3's version of the object where the bucket has versioning, else null; `time` is when the
 * write completed (ISO 8601, UTC).
 */
export const custodyEntrySchema = z.object({
  key: z.string().min(1),
  versionId: z.string().min(1).nullable(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/, 'lowercase hex SHA-256'),
  size: z.number().int().nonnegative(),
  time: z.iso.datetime(),
});

export type CustodyEntry = z.infer<typeof custodyEntrySchema>;

/**
 * The exact bytes a leaf hashes: compact JSON with the fields always in this order. The
 * same string is stored in Redis, listed in the seal and printed by `archiver prove`, so a
 * reader checks a leaf with `sha256sum` without re-serialising anything.
 */
export function canonicalEntry(e: CustodyEntry): string {
  return JSON.stringify({
    key: e.key,
    versionId: e.versionId,
    sha256: e.sha256,
    size: e.size,
    time: e.time,
  });
}

export function parseEntry(text: string): CustodyEntry {
  return custodyEntrySchema.parse(JSON.parse(text));
}

export function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}
