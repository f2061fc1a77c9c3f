import { createHash } from 'node:crypto';
import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { z } from 'zod';
import { idInstanceString, instanceKindSchema } from '@archiver/greenapi';
import { chatFolder, instanceFolder } from './object-keys.js';

/**
 * The legal hold registry (docs/legal-hold.md): one small JSON object per `archiver hold set`
 * or `clear`, under `{S3_PREFIX}_holds/`, written once and never deleted, so the holds
 * survive the loss of Redis and their history stays in the bucket. A hold is active while
 * no clear record names its set record.
 */
export const HOLD_FORMAT = 'greenapi-archiver-hold/1';

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

/** Why: the operator's text, shown to auditors. */
export const holdReasonSchema = printable(2000);
/** Who: `--actor`, else the OS user. */
export const holdActorSchema = printable(200);

export const holdSelectionSchema = z
  .object({ idInstance: idInstanceString, chatId: z.string().min(1).max(1000).optional() })
  .strict();
export type HoldSelection = z.infer<typeof holdSelectionSchema>;

export const holdRecordSchema = z
  .object({
    format: z.literal(HOLD_FORMAT),
    action: z.enum(['set', 'clear']),
    time: z.iso.datetime(),
    actor: holdActorSchema,
    reason: holdReasonSchema,
    selection: holdSelectionSchema,
    /** A clear only: the keys of the set records it lifts. */
    clears: z.array(z.string().min(1)).min(1).optional(),
  })
  .strict()
  .refine((r) => (r.action === 'clear') === (r.clears !== undefined), {
    message: 'a clear names the set records it lifts, a set names none',
  });
export type HoldRecord = z.infer<typeof holdRecordSchema>;

/** An active hold: its set record, and the key prefixes of the objects it covers. */
export type ActiveHold = { key: string; record: HoldRecord; prefixes: string[] };

export function holdsPrefix(s3Prefix: string): string {
  return `${s3Prefix}_holds/`;
}

/**
 * `…/_holds/{YYYYMMDDTHHMMSSmmmZ}-{set|clear}-{digest16}.json`: listed in time order, the same
 * record always at the same key, never two records at one.
 */
export function holdKey(s3Prefix: string, record: HoldRecord, bytes: Buffer): string {
  const time = record.time.replace(/[-:.]/g, '');
  const digest = createHash('sha256').update(bytes).digest('hex').slice(0, 16);
  return `${holdsPrefix(s3Prefix)}${time}-${record.action}-${digest}.json`;
}

/** The record's bytes: compact JSON in the schema's field order, one trailing newline. */
export function holdBytes(record: HoldRecord): Buffer {
  return Buffer.from(`${JSON.stringify(holdRecordSchema.parse(record))}\n`);
}

/**
 * Where the objects of a selection live, for both kinds (the id alone does not say which):
 * the instance's folders, or the chat's folder under each (the same key-safe name the
 * worker writes under).
 */
export function holdPrefixes(s3Prefix: string, selection: HoldSelection): string[] {
  return instanceKindSchema.options.map((kind) => {
    const p = { prefix: s3Prefix, kind, idInstance: selection.idInstance };
    return selection.chatId === undefined
      ? instanceFolder(p)
      : chatFolder({ ...p, chatId: selection.chatId });
  });
}

export function holdCovers(hold: Pick<ActiveHold, 'prefixes'>, key: string): boolean {
  return hold.prefixes.some((p) => key.startsWith(p));
}

export function sameSelection(a: HoldSelection, b: HoldSelection): boolean {
  return a.idInstance === b.idInstance && a.chatId === b.chatId;
}

export type HoldRegistryDeps = {
  s3: S3Client;
  bucket: string;
  prefix: string;
  /** Parsed records by key: they never change, so each is read once per process. */
  known?: Map<string, HoldRecord>;
  /** A `_holds/` object that is not a hold record: skipped, and told here. */
  onInvalid?: (key: string, problem: string) => void;
};

/** Every hold record, oldest first, and the holds still active. */
export async function readHolds(
  deps: HoldRegistryDeps,
): Promise<{ records: Array<{ key: string; record: HoldRecord }>; active: ActiveHold[] }> {
  const known = deps.known ?? new Map<string, HoldRecord>();
  const records: Array<{ key: string; record: HoldRecord }> = [];
  let token: string | undefined;
  do {
    const page = await deps.s3.send(
      new ListObjectsV2Command({
        Bucket: deps.bucket,
        Prefix: holdsPrefix(deps.prefix),
        ContinuationToken: token,
      }),
    );
    for (const o of page.Contents ?? []) {
      if (!o.Key) continue;
      const record = known.get(o.Key) ?? (await readRecord(deps, o.Key));
      if (!record) continue;
      known.set(o.Key, record);
      records.push({ key: o.Key, record });
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  const cleared = new Set(records.flatMap((r) => r.record.clears ?? []));
  const active = records
    .filter((r) => r.record.action === 'set' && !cleared.has(r.key))
    .map((r) => ({ ...r, prefixes: holdPrefixes(deps.prefix, r.record.selection) }));
  return { records, active };
}

async function readRecord(deps: HoldRegistryDeps, key: string): Promise<HoldRecord | undefined> {
  const res = await deps.s3.send(new GetObjectCommand({ Bucket: deps.bucket, Key: key }));
  const text = (await res.Body?.transformToString('utf8')) ?? '';
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    deps.onInvalid?.(key, 'not JSON');
    return undefined;
  }
  const parsed = holdRecordSchema.safeParse(json);
  if (!parsed.success) {
    deps.onInvalid?.(key, z.prettifyError(parsed.error));
    return undefined;
  }
  return parsed.data;
}

export type HoldCache = {
  /** Whether an active hold covers `key`, from a copy of the registry at most `ttlMs` old. */
  covers(key: string): Promise<boolean>;
};

/**
 * The worker's view of the active holds: the registry is read again once the copy is
 * `ttlMs` old, on the next write that asks, with one read in flight however many writes
 * wait on it. The age counts from when the read began, so a hold set before that moment is
 * always seen. A failed read fails the write that asked (the job retries): an object is
 * never written without its hold because the registry could not be read.
 */
export function createHoldCache(opts: {
  load: () => Promise<ActiveHold[]>;
  ttlMs: number;
  now?: () => number;
}): HoldCache {
  const now = opts.now ?? Date.now;
  let copy: { holds: ActiveHold[]; readAt: number } | undefined;
  let loading: Promise<ActiveHold[]> | undefined;

  function current(): Promise<ActiveHold[]> {
    if (copy && now() - copy.readAt < opts.ttlMs) return Promise.resolve(copy.holds);
    if (!loading) {
      const readAt = now();
      loading = opts.load().then(
        (holds) => {
          copy = { holds, readAt };
          loading = undefined;
          return holds;
        },
        (err: unknown) => {
          loading = undefined;
          throw err;
        },
      );
    }
    return loading;
  }

  return {
    async covers(key) {
      return (await current()).some((h) => holdCovers(h, key));
    },
  };
}

export class HoldRecordError extends Error {
  override name = 'HoldRecordError';
}

/**
 * Builds, checks and stores one hold record. `putOnce` writes it write-once with the
 * archive's protection and enters it in the custody log (the CLI passes the custody store's).
 */
export async function writeHoldRecord(
  deps: { prefix: string; putOnce: (key: string, body: Buffer) => Promise<void>; now?: () => Date },
  input: Omit<HoldRecord, 'format' | 'time'>,
): Promise<{ key: string; record: HoldRecord }> {
  const parsed = holdRecordSchema.safeParse({
    format: HOLD_FORMAT,
    action: input.action,
    time: (deps.now?.() ?? new Date()).toISOString(),
    actor: input.actor,
    reason: input.reason,
    selection: input.selection,
    clears: input.clears,
  });
  if (!parsed.success) throw new HoldRecordError(`hold record: ${z.prettifyError(parsed.error)}`);
  const bytes = holdBytes(parsed.data);
  const key = holdKey(deps.prefix, parsed.data, bytes);
  await deps.putOnce(key, bytes);
  return { key, record: parsed.data };
}
