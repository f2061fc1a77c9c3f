import { createHash } from 'node:crypto';
import { Transform, type Readable, type TransformCallback } from 'node:stream';
import { request, type Dispatcher } from 'undici';
import {
  DownloadError,
  DownloadStalledError,
  HostNotAllowedError,
  TruncatedDownloadError,
} from './errors.js';
import type { HostGuard } from './download-hosts.js';

export type OpenedDownload = {
  /** The bytes, hashed and counted on their way through. */
  body: Readable;
  contentType?: string;
  contentLength?: number;
  /** Valid once `body` has ended. */
  digest(): { sha256: string; size: number };
};

const MAX_REDIRECTS = 3;

/**
 * Opens `url` as a stream. undici's `request` rather than `fetch`: its body is a Node stream,
 * with no web-stream layer to convert, which cost 0.3–0.4 ms of CPU per download here
 * (BENCHMARKS.md). Redirects are followed by hand so each hop passes the host guard. The body
 * errors (so an upload reading it fails and leaves nothing) when it ends short of
 * Content-Length, or when the server sends no byte for `idleTimeoutMs` (undici's body timeout
 * runs only while the reader wants more: a slow S3 upload is not a stalled download).
 */
export async function openDownload(
  url: string,
  opts: {
    guard: HostGuard;
    signal?: AbortSignal;
    headersTimeoutMs: number;
    idleTimeoutMs: number;
  },
): Promise<OpenedDownload> {
  let current = opts.guard(url);
  let response: Dispatcher.ResponseData;
  try {
    for (let hop = 0; ; hop += 1) {
      response = await request(current, {
        signal: opts.signal,
        headersTimeout: opts.headersTimeoutMs,
        bodyTimeout: opts.idleTimeoutMs,
      });
      const location = headerValue(response.headers.location);
      if (response.statusCode < 300 || response.statusCode >= 400 || !location) break;
      await response.body.dump();
      if (hop >= MAX_REDIRECTS) throw new DownloadError('download: too many redirects');
      current = opts.guard(new URL(location, current).toString());
    }
  } catch (err) {
    throw asDownloadError(err, opts.signal, DownloadError);
  }
  const source = response.body;
  if (response.statusCode < 200 || response.statusCode >= 300) {
    await source.dump().catch(() => undefined);
    throw new DownloadError(`download: HTTP ${response.statusCode} from ${current.host}`);
  }
  const lengthHeader = headerValue(response.headers['content-length']);
  const contentLength =
    lengthHeader !== undefined && /^\d+$/.test(lengthHeader) ? Number(lengthHeader) : undefined;
  const meter = createMeter(contentLength);
  source.on('error', (err) =>
    meter.destroy(asDownloadError(err, opts.signal, TruncatedDownloadError)),
  );
  // A reader that gives up (a failed upload) must not leave the connection open.
  meter.on('close', () => {
    if (!source.readableEnded) source.destroy();
  });
  source.pipe(meter);
  return {
    body: meter,
    contentType: headerValue(response.headers['content-type']),
    contentLength,
    digest: () => meter.digest(),
  };
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

type Meter = Transform & { digest(): { sha256: string; size: number } };

/** SHA-256 and size on the way through, and the Content-Length check. */
function createMeter(expectedSize: number | undefined): Meter {
  const hash = createHash('sha256');
  let size = 0;
  let sha256: string | undefined;
  const meter = new Transform({
    transform(chunk: Buffer, _encoding, callback: TransformCallback) {
      hash.update(chunk);
      size += chunk.length;
      callback(null, chunk);
    },
    flush(callback: TransformCallback) {
      if (expectedSize !== undefined && size !== expectedSize) {
        callback(new TruncatedDownloadError(`download: got ${size} of ${expectedSize} bytes`));
        return;
      }
      sha256 = hash.digest('hex');
      callback();
    },
  }) as Meter;
  meter.digest = () => {
    if (sha256 === undefined) throw new Error('download not finished');
    return { sha256, size };
  };
  return meter;
}

function asDownloadError(
  err: unknown,
  signal: AbortSignal | undefined,
  type: typeof DownloadError,
): Error {
  if (signal?.aborted && signal.reason instanceof Error) return signal.reason;
  // A redirect's host refused by the guard stays what it is: permanent, not a retry.
  if (err instanceof DownloadError || err instanceof HostNotAllowedError) return err;
  const code = (err as { code?: string } | undefined)?.code;
  if (code === 'UND_ERR_HEADERS_TIMEOUT') {
    return new DownloadStalledError('download: no response headers in time');
  }
  if (code === 'UND_ERR_BODY_TIMEOUT') return new DownloadStalledError('download: stalled');
  // undici's messages name the host at most ("connect ECONNREFUSED 10.0.0.1:443"), never
  // the path or query, which may carry signatures.
  const message = err instanceof Error ? err.message : String(err);
  return new type(`download: ${message}${code ? ` (${code})` : ''}`);
}
