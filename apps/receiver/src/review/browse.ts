import { ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { chatDayFolder, forEachLimit } from '@archiver/core';

/**
 * What the review page lists, read from S3 with `Delimiter: '/'` listings (each one LIST
 * request per 1,000 names; docs/review.md §3 gives the cost):
 * instances per kind, chats per instance, and a chat's days (years → months → days).
 */
export type Bucket = { s3: S3Client; bucket: string; prefix: string };

const KINDS = ['whatsapp', 'max'] as const;
/** Objects counted per chat before the count says "at least". */
export const COUNT_CAP = 5000;
/** Chats shown per page of an instance. */
export const CHATS_PER_PAGE = 50;

/**
 * The folder names right under `prefix`: one `Delimiter: '/'` LIST per 1,000 names. A store
 * whose delimiter listing finds nothing (s3rver 3.7 prunes nested folders before it finds
 * their common prefixes) is asked by skip-scan instead: one LIST of a single key per folder,
 * each starting after the folder before. On S3 and MinIO that costs one extra request only
 * for a prefix that is really empty.
 */
async function folders(b: Bucket, prefix: string, limit = Infinity): Promise<string[]> {
  const out: string[] = [];
  let token: string | undefined;
  do {
    const page = await b.s3.send(
      new ListObjectsV2Command({
        Bucket: b.bucket,
        Prefix: prefix,
        Delimiter: '/',
        ContinuationToken: token,
      }),
    );
    for (const p of page.CommonPrefixes ?? []) {
      if (p.Prefix) out.push(p.Prefix.slice(prefix.length, -1));
    }
    token = page.IsTruncated && out.length < limit ? page.NextContinuationToken : undefined;
  } while (token);
  return out.length > 0 ? out : skipScan(b, prefix, limit);
}

async function skipScan(b: Bucket, prefix: string, limit: number): Promise<string[]> {
  const out: string[] = [];
  let after: string | undefined;
  while (out.length < limit) {
    const page = await b.s3.send(
      new ListObjectsV2Command({ Bucket: b.bucket, Prefix: prefix, StartAfter: after, MaxKeys: 1 }),
    );
    const key = page.Contents?.[0]?.Key;
    if (!key) break;
    const slash = key.indexOf('/', prefix.length);
    if (slash < 0) {
      after = key;
      continue;
    }
    out.push(key.slice(prefix.length, slash));
    // '0' is the character after '/': every key of this folder sorts before it.
    after = `${key.slice(0, slash)}0`;
  }
  return out;
}

export async function listInstances(b: Bucket) {
  const out: Array<{ kind: (typeof KINDS)[number]; idInstance: string }> = [];
  for (const kind of KINDS) {
    for (const id of await folders(b, `${b.prefix}${kind}/`)) {
      if (/^\d+$/.test(id)) out.push({ kind, idInstance: id });
    }
  }
  return out;
}

export function chatFolder(b: Bucket, kind: string, idInstance: string, chatId: string): string {
  return chatDayFolder({
    prefix: b.prefix,
    kind: kind as (typeof KINDS)[number],
    idInstance,
    chatId,
    timestamp: 0,
  }).replace(/\d{4}\/\d{2}\/\d{2}\/$/, '');
}

export type ChatSummary = { chatId: string; objects: number; capped: boolean; lastDay?: string };

/** A page of an instance's chats, each with its object count and last day with records. */
export async function listChats(
  b: Bucket,
  kind: string,
  idInstance: string,
  page: number,
): Promise<{ chats: ChatSummary[]; more: boolean }> {
  const base = `${b.prefix}${kind}/${idInstance}/`;
  const limit = (page + 1) * CHATS_PER_PAGE;
  const names = (await folders(b, base, limit + 1)).filter((n) => !n.startsWith('_'));
  const slice = names.slice(page * CHATS_PER_PAGE, limit);
  const chats: ChatSummary[] = [];
  await forEachLimit(slice, 8, async (chatId) => {
    const folder = `${base}${chatId}/`;
    const [count, days] = await Promise.all([countObjects(b, folder), lastDay(b, folder)]);
    chats.push({ chatId, ...count, lastDay: days });
  });
  chats.sort(
    (x, y) => (y.lastDay ?? '').localeCompare(x.lastDay ?? '') || x.chatId.localeCompare(y.chatId),
  );
  return { chats, more: names.length > limit };
}

/** Objects under `folder`, counted up to COUNT_CAP (one LIST request per 1,000). */
async function countObjects(b: Bucket, folder: string) {
  let objects = 0;
  let token: string | undefined;
  do {
    const page = await b.s3.send(
      new ListObjectsV2Command({ Bucket: b.bucket, Prefix: folder, ContinuationToken: token }),
    );
    objects += page.KeyCount ?? page.Contents?.length ?? 0;
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token && objects < COUNT_CAP);
  return { objects, capped: token !== undefined };
}

/** The newest day folder: the last year, its last month, its last day (three listings). */
async function lastDay(b: Bucket, folder: string): Promise<string | undefined> {
  const year = (await folders(b, folder)).filter((y) => /^\d{4}$/.test(y)).at(-1);
  if (!year) return undefined;
  const month = (await folders(b, `${folder}${year}/`)).at(-1);
  if (!month) return undefined;
  const day = (await folders(b, `${folder}${year}/${month}/`)).at(-1);
  return day ? `${year}-${month}-${day}` : undefined;
}

/** Every day of a chat with records, newest first (1 + years + months listings). */
export async function listDays(b: Bucket, folder: string): Promise<string[]> {
  const days: string[] = [];
  for (const year of (await folders(b, folder)).filter((y) => /^\d{4}$/.test(y))) {
    for (const month of await folders(b, `${folder}${year}/`)) {
      for (const day of await folders(b, `${folder}${year}/${month}/`)) {
        days.push(`${year}-${month}-${day}`);
      }
    }
  }
  return days.reverse();
}

/** A day folder's objects with size and time written (custody status needs both). */
export async function listDayObjects(b: Bucket, dayFolder: string) {
  const out: Array<{ key: string; size: number; lastModified: Date }> = [];
  let token: string | undefined;
  do {
    const page = await b.s3.send(
      new ListObjectsV2Command({ Bucket: b.bucket, Prefix: dayFolder, ContinuationToken: token }),
    );
    for (const o of page.Contents ?? []) {
      if (o.Key) {
        out.push({ key: o.Key, size: o.Size ?? 0, lastModified: o.LastModified ?? new Date(0) });
      }
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return out;
}
