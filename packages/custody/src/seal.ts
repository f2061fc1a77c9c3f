import { z } from 'zod';
import { canonicalEntry, custodyEntrySchema, sha256Hex, type CustodyEntry } from './entry.js';
import { leafHash, merkleRoot } from './merkle.js';
import type { SealSigner } from './signing.js';

export const SEAL_FORMAT = 'greenapi-archiver-seal/1';
const hex64 = z.string().regex(/^[0-9a-f]{64}$/);

/**
 * What a seal's signature covers, as a compact JSON string stored verbatim in the seal, so
 * a reader verifies the signature over exactly those bytes. `through` is the Redis stream id
 * of the last entry sealed (how a sealer that died after the PUT is taken over).
 */
export const statementSchema = z.object({
  format: z.literal(SEAL_FORMAT),
  seq: z.number().int().positive(),
  time: z.iso.datetime(),
  prev: hex64.nullable(),
  root: hex64,
  count: z.number().int().nonnegative(),
  keyId: hex64,
  through: z.string().regex(/^\d+-\d+$/),
  /** Entries rebuilt from the bucket by `archiver seal --rescan` since the previous seal. */
  rescan: z
    .object({ at: z.iso.datetime(), objects: z.number().int(), entries: z.number().int() })
    .optional(),
  /** The sealer found no chain head in Redis and took it from the bucket (Redis lost it). */
  headFromBucket: z.literal(true).optional(),
});

export type SealStatement = z.infer<typeof statementSchema>;

export const sealSchema = z.object({
  statement: z.string(),
  signature: z.string().min(1),
  entries: z.array(custodyEntrySchema),
});

export type Seal = { statement: SealStatement; raw: z.infer<typeof sealSchema> };

/** One entry per line, so a seal reads (and diffs) line by line. */
export function sealBytes(statement: string, signature: string, entries: string[]): Buffer {
  const body = entries.length ? `\n${entries.join(',\n')}\n` : '';
  return Buffer.from(
    `{"statement":${JSON.stringify(statement)},"signature":${JSON.stringify(signature)},"entries":[${body}]}\n`,
    'utf8',
  );
}

export function buildSeal(
  signer: SealSigner,
  head: { seq: number; sha256: string | null },
  entries: string[],
  extra: Pick<SealStatement, 'time' | 'through' | 'rescan' | 'headFromBucket'>,
): { statement: SealStatement; bytes: Buffer; sha256: string } {
  const statement: SealStatement = {
    format: SEAL_FORMAT,
    seq: head.seq + 1,
    time: extra.time,
    prev: head.sha256,
    root: merkleRoot(entries.map(leafHash)).toString('hex'),
    count: entries.length,
    keyId: signer.keyId,
    through: extra.through,
    ...(extra.rescan ? { rescan: extra.rescan } : {}),
    ...(extra.headFromBucket ? { headFromBucket: true as const } : {}),
  };
  const text = JSON.stringify(statement);
  const bytes = sealBytes(text, signer.sign(text), entries);
  return { statement, bytes, sha256: sha256Hex(bytes) };
}

export class SealFormatError extends Error {
  override name = 'SealFormatError';
}

/** Parses a seal's bytes; throws SealFormatError when they are not a seal. */
export function parseSeal(bytes: Buffer | string): Seal {
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString());
  } catch {
    throw new SealFormatError('not valid JSON');
  }
  const raw = sealSchema.safeParse(json);
  if (!raw.success) throw new SealFormatError(`not a seal: ${raw.error.issues[0]?.message}`);
  let statementJson: unknown;
  try {
    statementJson = JSON.parse(raw.data.statement);
  } catch {
    throw new SealFormatError('statement is not valid JSON');
  }
  const statement = statementSchema.safeParse(statementJson);
  if (!statement.success) {
    throw new SealFormatError(`not a seal statement: ${statement.error.issues[0]?.message}`);
  }
  return { statement: statement.data, raw: raw.data };
}

export function entryLeaves(entries: CustodyEntry[]): Buffer[] {
  return entries.map((e) => leafHash(canonicalEntry(e)));
}
