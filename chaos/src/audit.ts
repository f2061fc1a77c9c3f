import { createHash } from 'node:crypto';
import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { sidecarSchema } from '@archiver/core';
import { listAllKeys, listMultipartUploads } from '@archiver/testkit';
import type { CorpusFile } from './corpus.js';

export type Audit = {
  files: number;
  archived: number;
  /** Ended without a file but with a sidecar saying why (allowed: "recorded with a reason"). */
  recorded: number;
  /** Answered 200 but neither archived nor recorded. */
  lost: string[];
  /** Objects whose bytes differ from the simulator's (sha256), or whose sidecar disagrees. */
  corrupt: string[];
  /** Keys under the prefix that no message accounts for (a second copy, a stray part). */
  strays: string[];
  danglingUploads: string[];
};

/**
 * Reads back everything under `prefix` and checks, for every message answered 200: exactly one
 * object and one sidecar, bytes equal to the simulator's (sha256), the sidecar naming the same
 * digest and size, nothing else under the prefix, and no multipart upload left open.
 */
export async function auditArchive(
  s3: S3Client,
  bucket: string,
  prefix: string,
  files: CorpusFile[],
  accepted: Set<string>,
): Promise<Audit> {
  const keys = new Set(await listKeys(s3, bucket, prefix, files));
  const expected = new Set<string>();
  const audit: Audit = {
    files: files.length,
    archived: 0,
    recorded: 0,
    lost: [],
    corrupt: [],
    strays: [],
    danglingUploads: [],
  };
  const answered = files.filter((f) => accepted.has(f.data.idMessage));
  await inLanes(answered, 16, async (f) => {
    try {
      await check(f);
    } catch (err) {
      // An object S3 cannot serve (s3rver: a PUT cut mid-body leaves an object without metadata).
      audit.corrupt.push(
        `${f.data.idMessage}: unreadable (${err instanceof Error ? err.message : String(err)})`,
      );
    }
  });
  async function check(f: CorpusFile): Promise<void> {
    expected.add(f.sidecarKey);
    if (!keys.has(f.sidecarKey)) return void audit.lost.push(f.data.idMessage);
    const sidecar = sidecarSchema.safeParse(
      JSON.parse((await readObject(s3, bucket, f.sidecarKey)).toString('utf8')),
    );
    if (!sidecar.success) return void audit.corrupt.push(`${f.data.idMessage}: unreadable sidecar`);
    if (sidecar.data.status !== 'archived') {
      if (sidecar.data.reason?.code) audit.recorded += 1;
      else audit.lost.push(`${f.data.idMessage}: ${sidecar.data.status} without a reason`);
      return;
    }
    expected.add(f.fileKey);
    if (!keys.has(f.fileKey)) {
      return void audit.lost.push(`${f.data.idMessage}: sidecar without object`);
    }
    const digest = createHash('sha256')
      .update(await readObject(s3, bucket, f.fileKey))
      .digest('hex');
    if (digest !== f.sha256) audit.corrupt.push(`${f.data.idMessage}: object sha256 differs`);
    else if (sidecar.data.sha256 !== f.sha256 || sidecar.data.size !== f.size) {
      audit.corrupt.push(`${f.data.idMessage}: sidecar digest/size differ`);
    } else audit.archived += 1;
  }
  audit.strays = [...keys].filter((k) => !expected.has(k));
  audit.danglingUploads = (await listMultipartUploads(s3, bucket, `${prefix}/`)).map((u) => u.key);
  return audit;
}

/**
 * Every key under the prefix. s3rver answers 500 to the second page of a listing (more than
 * 1000 keys, ContinuationToken or StartAfter alike), so past that the message folders are
 * listed one by one: keys outside every message folder would then go unseen.
 */
async function listKeys(
  s3: S3Client,
  bucket: string,
  prefix: string,
  files: CorpusFile[],
): Promise<string[]> {
  try {
    return await listAllKeys(s3, bucket, `${prefix}/`);
  } catch {
    const keys: string[] = [];
    const folders = [
      ...new Set(files.map((f) => f.sidecarKey.slice(0, f.sidecarKey.lastIndexOf('/') + 1))),
    ];
    await inLanes(folders, 16, async (folder) => {
      const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: folder }));
      for (const item of page.Contents ?? []) if (item.Key) keys.push(item.Key);
    });
    return keys;
  }
}

async function readObject(s3: S3Client, bucket: string, key: string): Promise<Buffer> {
  const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  if (!out.Body) throw new Error(`object ${key} has no body`);
  return Buffer.from(await out.Body.transformToByteArray());
}

async function inLanes<T>(
  items: T[],
  lanes: number,
  work: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: lanes }, async () => {
      for (;;) {
        const item = items[next];
        next += 1;
        if (item === undefined) return;
        await work(item);
      }
    }),
  );
}
