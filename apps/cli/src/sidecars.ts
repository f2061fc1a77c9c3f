import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { sidecarSchema, type Sidecar } from '@archiver/core';

const SIDECAR_NAME = 'message.json';
const KINDS = ['whatsapp', 'max'] as const;

/** Every key under `prefix`, one ListObjectsV2 page (≤ 1000 keys) at a time. */
export async function* listKeys(
  s3: S3Client,
  bucket: string,
  prefix: string,
): AsyncGenerator<string> {
  let token: string | undefined;
  do {
    const page = await s3.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
    );
    for (const object of page.Contents ?? []) if (object.Key) yield object.Key;
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
}

/**
 * Where sidecars live: `{prefix}{kind}/` for both kinds, or `{prefix}{kind}/{idInstance}/`
 * when one instance is asked for (its kind is not known from the id alone).
 */
export function sidecarPrefixes(prefix: string, idInstance?: string): string[] {
  return KINDS.map((kind) =>
    idInstance ? `${prefix}${kind}/${idInstance}/` : `${prefix}${kind}/`,
  );
}

/** What the key of a sidecar says: `{prefix}{kind}/{idInstance}/{chat}/{YYYY}/{MM}/{DD}/{idMessage}/message.json`. */
export type SidecarKey = { key: string; kind: string; idInstance: string; day: string };

export function parseSidecarKey(prefix: string, key: string): SidecarKey | undefined {
  if (!key.startsWith(prefix)) return undefined;
  const parts = key.slice(prefix.length).split('/');
  const [kind, idInstance, , yyyy, mm, dd, , name] = parts;
  if (parts.length !== 8 || name !== SIDECAR_NAME || !kind || !idInstance) return undefined;
  if (
    !(KINDS as readonly string[]).includes(kind) ||
    !/^\d{4}$/.test(yyyy ?? '') ||
    !/^\d{2}$/.test(mm ?? '') ||
    !/^\d{2}$/.test(dd ?? '')
  ) {
    return undefined;
  }
  return { key, kind, idInstance, day: `${yyyy}-${mm}-${dd}` };
}

/** The sidecars under the archive's prefix (optionally one instance), in listing order. */
export async function* listSidecars(
  s3: S3Client,
  bucket: string,
  prefix: string,
  idInstance?: string,
): AsyncGenerator<SidecarKey> {
  for (const listPrefix of sidecarPrefixes(prefix, idInstance)) {
    for await (const key of listKeys(s3, bucket, listPrefix)) {
      const parsed = parseSidecarKey(prefix, key);
      if (parsed) yield parsed;
    }
  }
}

export type ReadSidecar = { ok: true; sidecar: Sidecar } | { ok: false; error: string };

/** Fetches and validates one sidecar; an unreadable one is a finding, not a crash. */
export async function readSidecar(s3: S3Client, bucket: string, key: string): Promise<ReadSidecar> {
  let text: string;
  try {
    const res = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    text = (await res.Body?.transformToString('utf8')) ?? '';
  } catch (err) {
    return { ok: false, error: `cannot read: ${errorText(err)}` };
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { ok: false, error: 'not valid JSON' };
  }
  const parsed = sidecarSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return {
      ok: false,
      error: `not a sidecar: ${issue ? `${issue.path.join('.') || '(root)'}: ${issue.message}` : 'invalid'}`,
    };
  }
  return { ok: true, sidecar: parsed.data };
}

export type ObjectDigest = { sha256Hex: string; sha256Base64: string; size: number };

/**
 * SHA-256 and size of an object, streamed chunk by chunk (never the whole file in memory);
 * `missing` when S3 has no such key.
 */
export async function digestObject(
  s3: S3Client,
  bucket: string,
  key: string,
): Promise<ObjectDigest | 'missing'> {
  let body: unknown;
  try {
    body = (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body;
  } catch (err) {
    if (isNotFound(err)) return 'missing';
    throw err;
  }
  if (!(body instanceof Readable)) throw new Error(`unexpected GetObject body for ${key}`);
  const sha = createHash('sha256');
  let size = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    sha.update(chunk);
    size += chunk.length;
  }
  const digest = sha.digest();
  return { sha256Hex: digest.toString('hex'), sha256Base64: digest.toString('base64'), size };
}

export function isNotFound(err: unknown): boolean {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } } | undefined;
  return e?.name === 'NoSuchKey' || e?.name === 'NotFound' || e?.$metadata?.httpStatusCode === 404;
}

export function errorText(err: unknown): string {
  return err instanceof Error
    ? `${err.name === 'Error' ? '' : `${err.name}: `}${err.message}`
    : String(err);
}
