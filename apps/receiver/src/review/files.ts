import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import type { Response } from 'express';
import type { Bucket } from './browse.js';

/**
 * Types a browser may show inline from this origin. Anything else (HTML, SVG, scripts, the
 * unknown) is only ever downloaded: a file someone sent into a chat must not run as a page
 * of the review site. Every file answer also carries its own `sandbox` CSP and `nosniff`.
 */
const INLINE =
  /^(image\/(jpeg|png|gif|webp)|application\/pdf|audio\/[\w.+-]+|video\/[\w.+-]+|text\/plain)$/i;

export type FileRequest = { key: string; download: boolean };

/** `Content-Disposition` with an ASCII fallback and the UTF-8 name (RFC 6266 / 5987). */
export function contentDisposition(type: 'inline' | 'attachment', name: string): string {
  const ascii = name.replace(/[^\x20-\x7e]|["\\%]/g, '_');
  return `${type}; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(name)}`;
}

/**
 * Streams one object from the private bucket to the browser: the SDK's body is piped, never
 * buffered, with the object's own Content-Type and length. Resolves `missing` for a key
 * with no object.
 */
export async function streamObject(
  b: Bucket,
  req: FileRequest,
  res: Response,
  signal: AbortSignal,
): Promise<'sent' | 'missing'> {
  let obj;
  try {
    obj = await b.s3.send(new GetObjectCommand({ Bucket: b.bucket, Key: req.key }), {
      abortSignal: signal,
    });
  } catch (err) {
    const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
    if (e.name === 'NoSuchKey' || e.$metadata?.httpStatusCode === 404) return 'missing';
    throw err;
  }
  const type = (obj.ContentType ?? 'application/octet-stream').split(';')[0]!.trim();
  const inline = !req.download && INLINE.test(type);
  const name = req.key.split('/').at(-1) ?? 'file';
  res.status(200);
  res.setHeader('content-type', type);
  if (obj.ContentLength !== undefined) res.setHeader('content-length', String(obj.ContentLength));
  res.setHeader('content-disposition', contentDisposition(inline ? 'inline' : 'attachment', name));
  res.setHeader('content-security-policy', "default-src 'none'; sandbox");
  await pipeline(obj.Body as Readable, res);
  return 'sent';
}
