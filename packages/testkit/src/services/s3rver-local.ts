import type * as crypto from 'node:crypto';
import { existsSync, rmSync } from 'node:fs';
import { mkdir, readdir, readFile, rm, stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { makeTempDir } from './runtime.js';

/**
 * s3rver runs in-process, behind a small front handler that fills the gaps tests need:
 * - ListMultipartUploads (s3rver: 501) and AbortMultipartUpload (s3rver: 405) are served from
 *   s3rver's own upload directory, so "no dangling multipart upload" can be asserted through
 *   the normal S3 API and an SDK abort really removes the parts;
 * - UploadPart / CompleteMultipartUpload on an unknown upload id answer 404 NoSuchUpload as S3
 *   does (s3rver would recreate the directory or fail with a 500);
 * - aws-chunked bodies are refused with a 400: s3rver would store the chunk framing and the
 *   checksum trailer as object bytes. Clients must send plain bodies
 *   (`requestChecksumCalculation: 'WHEN_REQUIRED'`, see s3ClientConfig).
 * The front handler does not check signatures; s3rver checks them for everything else.
 */

type S3rverApp = {
  configureBuckets(): Promise<unknown>;
  callback(): (req: IncomingMessage, res: ServerResponse) => void;
};
type S3rverCtor = new (options: {
  silent: boolean;
  directory: string;
  configureBuckets: Array<{ name: string }>;
}) => S3rverApp;

export type LocalS3 = { endpoint: string; dataDir: string; close(): Promise<void> };

export const S3RVER_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } as const;

// s3rver is CommonJS without type declarations; the two members used are typed above.
const require = createRequire(import.meta.url);

/**
 * s3rver makes ListObjectsV2 continuation tokens with single DES, which OpenSSL 3 only has in
 * its legacy provider: every truncated listing (more than 1000 keys) answered 500. Triple DES
 * with the one key three times is the same cipher and is in the default provider, so
 * `des` is mapped onto it; nothing else is touched.
 */
function allowS3rverTokens(): void {
  const c = require('node:crypto') as typeof crypto & { s3rverDes?: true };
  if (c.s3rverDes) return;
  const triple = (key: Buffer) => Buffer.concat([key, key, key]);
  const { createCipheriv, createDecipheriv } = c;
  const patched = c as unknown as Record<string, unknown>;
  patched.createCipheriv = (alg: string, key: Buffer, iv: Buffer, opts?: object) =>
    alg === 'des'
      ? createCipheriv('des-ede3-cbc', triple(key), iv)
      : createCipheriv(alg, key, iv, opts as never);
  patched.createDecipheriv = (alg: string, key: Buffer, iv: Buffer, opts?: object) =>
    alg === 'des'
      ? createDecipheriv('des-ede3-cbc', triple(key), iv)
      : createDecipheriv(alg, key, iv, opts as never);
  c.s3rverDes = true;
}

/**
 * s3rver in-process behind the front handler. By default on a free port with a temporary
 * directory removed on close; `dataDir` (kept across runs, as `npm run dev` wants) and
 * `port` pin both. With `tls` (a PEM key and certificate) it serves HTTPS.
 */
export async function startLocalS3(
  bucket: string,
  opts: { dataDir?: string; port?: number; tls?: { key: string; cert: string } } = {},
): Promise<LocalS3> {
  allowS3rverTokens();
  const S3rver = require('s3rver') as S3rverCtor;
  const keep = opts.dataDir !== undefined;
  const dataDir = opts.dataDir ?? (await makeTempDir('s3rver'));
  if (keep) await mkdir(dataDir, { recursive: true });
  const onParentExit = () => {
    if (!keep) rmSync(dataDir, { recursive: true, force: true });
  };
  process.on('exit', onParentExit);
  const app = new S3rver({
    silent: true,
    directory: dataDir,
    configureBuckets: [{ name: bucket }],
  });
  await app.configureBuckets();
  const s3rverHandler = app.callback();
  const handle = (req: IncomingMessage, res: ServerResponse) => {
    handleGap(dataDir, req, res).then(
      (handled) => {
        if (!handled) s3rverHandler(req, res);
      },
      (err: unknown) => sendError(res, 500, 'InternalError', String(err)),
    );
  };
  const server = opts.tls ? createTlsServer(opts.tls, handle) : createServer(handle);
  server.listen(opts.port ?? 0, '127.0.0.1');
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('s3rver front server has no port');
  return {
    endpoint: `${opts.tls ? 'https' : 'http'}://127.0.0.1:${address.port}`,
    dataDir,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      if (!keep) await rm(dataDir, { recursive: true, force: true });
      process.off('exit', onParentExit);
    },
  };
}

/** Where s3rver keeps in-progress multipart uploads: `<uploadId>/{key,metadata,<partNumber>}`. */
function uploadsDir(dataDir: string, bucket: string): string {
  return join(dataDir, bucket, '._S3rver_uploads');
}

async function handleGap(
  dataDir: string,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<boolean> {
  const url = new URL(req.url ?? '/', 'http://s3.local');
  const [, rawBucket = '', ...rawKey] = url.pathname.split('/');
  const bucket = decodeURIComponent(rawBucket);
  const key = decodeURIComponent(rawKey.join('/'));
  const query = url.searchParams;
  const uploadId = query.get('uploadId');

  if (req.method === 'PUT' && isAwsChunked(req)) {
    sendError(
      res,
      400,
      'InvalidRequest',
      "s3rver stores aws-chunked bodies verbatim; configure the client with requestChecksumCalculation: 'WHEN_REQUIRED'",
    );
    return true;
  }
  if (req.method === 'GET' && bucket && !key && query.has('uploads')) {
    await listUploads(dataDir, bucket, query.get('prefix') ?? '', res);
    return true;
  }
  if (!bucket || !key || uploadId === null) return false;
  const dir = /^[0-9a-f]{1,64}$/.test(uploadId)
    ? join(uploadsDir(dataDir, bucket), uploadId)
    : undefined;
  if (!dir || !existsSync(join(dir, 'key')) || (await readFile(join(dir, 'key'), 'utf8')) !== key) {
    sendError(res, 404, 'NoSuchUpload', 'The specified upload does not exist.');
    return true;
  }
  if (req.method === 'DELETE') {
    await rm(dir, { recursive: true, force: true });
    res.writeHead(204).end();
    return true;
  }
  return false;
}

function isAwsChunked(req: IncomingMessage): boolean {
  const encoding = req.headers['content-encoding'] ?? '';
  const sha = req.headers['x-amz-content-sha256'];
  return (
    encoding.includes('aws-chunked') || (typeof sha === 'string' && sha.startsWith('STREAMING-'))
  );
}

async function listUploads(
  dataDir: string,
  bucket: string,
  prefix: string,
  res: ServerResponse,
): Promise<void> {
  const dir = uploadsDir(dataDir, bucket);
  const ids = existsSync(dir) ? await readdir(dir) : [];
  const uploads: Array<{ key: string; uploadId: string; initiated: Date }> = [];
  for (const uploadId of ids) {
    const keyFile = join(dir, uploadId, 'key');
    if (!existsSync(keyFile)) continue;
    const key = await readFile(keyFile, 'utf8');
    if (key.startsWith(prefix)) {
      uploads.push({ key, uploadId, initiated: (await stat(keyFile)).mtime });
    }
  }
  uploads.sort(
    (a, b) => a.key.localeCompare(b.key) || a.initiated.getTime() - b.initiated.getTime(),
  );
  const items = uploads
    .map(
      (u) =>
        `<Upload><Key>${xml(u.key)}</Key><UploadId>${u.uploadId}</UploadId>` +
        `<Initiated>${u.initiated.toISOString()}</Initiated><StorageClass>STANDARD</StorageClass></Upload>`,
    )
    .join('');
  sendXml(
    res,
    200,
    `<ListMultipartUploadsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">` +
      `<Bucket>${xml(bucket)}</Bucket><KeyMarker></KeyMarker><UploadIdMarker></UploadIdMarker>` +
      `<Prefix>${xml(prefix)}</Prefix><MaxUploads>1000</MaxUploads><IsTruncated>false</IsTruncated>` +
      `${items}</ListMultipartUploadsResult>`,
  );
}

function sendError(res: ServerResponse, status: number, code: string, message: string): void {
  sendXml(res, status, `<Error><Code>${code}</Code><Message>${xml(message)}</Message></Error>`);
}

function sendXml(res: ServerResponse, status: number, body: string): void {
  const text = `<?xml version="1.0" encoding="UTF-8"?>\n${body}`;
  res.writeHead(status, {
    'Content-Type': 'application/xml',
    'Content-Length': Buffer.byteLength(text),
  });
  res.end(text);
}

function xml(text: string): string {
  return text.replace(/[<>&'"]/g, (ch) => `&#${ch.charCodeAt(0)};`);
}
