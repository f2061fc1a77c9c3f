import type { CustodyFinding } from './findings.js';

type Version = { versionId?: string | null };
type Sealed = Version & { key: string; sha256: string; size: number; seq: number; i: number };
type Found = Version & { key: string; sha256: string; size: number; lastModified: string };

/**
 * Where the bucket keeps versions, the one a GET reads must be the one the seal names. Any
 * other version was written behind the archiver's back (its own writes are entered, and the
 * latest entry names the latest version); the sealed version may still be readable by id.
 */
const otherVersion = (sealed: Sealed, found: Found) =>
  Boolean(sealed.versionId && found.versionId && sealed.versionId !== found.versionId);

/** Entries recorded but not sealed yet (from Redis): an object matching one is in custody. */
export type PendingIndex = Map<string, Set<string>>;

export const digestId = (d: { sha256: string; size: number }) => `${d.sha256}:${d.size}`;

/**
 * One partition's verdicts. Per key, the latest sealed entry (highest seal, then position)
 * is what the object must still be; an object without one must be younger than one
 * interval or waiting in Redis; a sealed key without an object was deleted.
 */
export function judgePartition(
  lines: string[],
  ctx: {
    pending: PendingIndex;
    unsealedBefore: number;
    report: (f: CustodyFinding) => void;
    onClaim?: (claim: object, found?: { sha256: string; size: number }) => void;
  },
): { objects: number; sealedObjects: number } {
  const byKey = new Map<string, { sealed?: Sealed; found?: Found }>();
  const claims: Array<{ key: string }> = [];
  for (const line of lines) {
    const kind = line[0];
    if (kind === 'C') {
      claims.push(JSON.parse(line.slice(2)) as { key: string });
      continue;
    }
    const value = JSON.parse(line.slice(2)) as Sealed & Found;
    const slot = byKey.get(value.key) ?? {};
    if (kind === 'E') {
      const s = slot.sealed;
      if (!s || value.seq > s.seq || (value.seq === s.seq && value.i > s.i)) slot.sealed = value;
    } else {
      slot.found = value;
    }
    byKey.set(value.key, slot);
  }
  for (const claim of claims) ctx.onClaim?.(claim, byKey.get(claim.key)?.found);
  let objects = 0;
  let sealedObjects = 0;
  for (const [key, { sealed, found }] of byKey) {
    const waiting = found ? ctx.pending.get(key)?.has(digestId(found)) : false;
    if (found) objects += 1;
    if (sealed && !found) {
      ctx.report({ problem: 'object_missing', key, seq: sealed.seq });
    } else if (found && sealed && digestId(found) === digestId(sealed)) {
      if (otherVersion(sealed, found) && !waiting) {
        ctx.report({
          problem: 'object_replaced',
          key,
          seq: sealed.seq,
          sealedVersionId: sealed.versionId!,
          actualVersionId: found.versionId!,
        });
      } else {
        sealedObjects += 1;
      }
    } else if (found && sealed && !waiting) {
      ctx.report({
        problem: 'object_changed',
        key,
        seq: sealed.seq,
        sealed: { sha256: sealed.sha256, size: sealed.size, versionId: sealed.versionId ?? null },
        actual: { sha256: found.sha256, size: found.size, versionId: found.versionId ?? null },
      });
    } else if (
      found &&
      !sealed &&
      !waiting &&
      Date.parse(found.lastModified) < ctx.unsealedBefore
    ) {
      ctx.report({
        problem: 'object_unsealed',
        key,
        lastModified: found.lastModified,
        sha256: found.sha256,
        size: found.size,
      });
    }
  }
  return { objects, sealedObjects };
}
