import type { Cluster, Redis } from 'ioredis';
import { z } from 'zod';
import type { CustodyKeys } from './custody-keys.js';

export const rescanNoteSchema = z.object({
  at: z.iso.datetime(),
  objects: z.number().int().nonnegative(),
  entries: z.number().int().nonnegative(),
});
export type RescanNote = z.infer<typeof rescanNoteSchema>;

/** The rescan the next seal states; `raw` lets the commit clear exactly the note it sealed. */
export async function readRescanNote(redis: Redis | Cluster, keys: CustodyKeys) {
  const raw = await redis.get(keys.rescan);
  if (!raw) return undefined;
  const parsed = rescanNoteSchema.safeParse(JSON.parse(raw));
  return parsed.success ? { raw, note: parsed.data } : undefined;
}

/** Adds a rescan's counts to the note waiting for the next seal. */
export async function addRescanNote(
  redis: Redis | Cluster,
  keys: CustodyKeys,
  objects: number,
  entries: number,
) {
  const before = (await readRescanNote(redis, keys))?.note;
  const note: RescanNote = {
    at: new Date().toISOString(),
    objects: (before?.objects ?? 0) + objects,
    entries: (before?.entries ?? 0) + entries,
  };
  await redis.set(keys.rescan, JSON.stringify(note));
  return note;
}
