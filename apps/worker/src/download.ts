import { createHash } from 'node:crypto';
import { Readable, Transform, type TransformCallback } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { DownloadError, DownloadStalledError, TruncatedDownloadError } from './errors.js';
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
 * Opens `url` as a stream. Redirects are followed by hand so each hop passes the host guard.
 * The body errors (so an upload reading it fails and leaves nothing) when it ends short of
 * Content-Length or when no byte arrives for `idleTimeoutMs`.
 */
export async function openDownload(
  url: string,
  opts: {
    guard: HostGuard;
    signal?: AbortSignal;
    headersTimeoutMs: number;
    idleTimeoutMs: number;
    fetch?: typeof fetch;
  },
): Promise<OpenedDownload> {
  const doFetch = opts.fetch ?? fetch;
  const controller = new AbortController();
  const abort = () => controller.abort(opts.signal?.reason);
  opts.signal?.addEventListener('abort', abort, { once: true });
  let current = opts.guard(url);
  let response: Response | undefined;
  const headersTimer = setTimeout(
    () => controller.abort(new DownloadStalledError('download: no response headers in time')),
    opts.headersTimeoutMs,
  );
  try {
    for (let hop = 0; ; hop += 1) {
      response = await doFetch(current, { signal: controller.signal, redirect: 'manual' });
      const location = response.headers.get('location');
      if (response.status < 300 || response.status >= 400 || !location) break;
      await response.body?.cancel();
      if (hop >= MAX_REDIRECTS) throw new DownloadError('download: too many redirects');
      current = opts.guard(new URL(location, current).toString());
    }
  } catch (err) {
    opts.signal?.removeEventListener('abort', abort);
    throw asDownloadError(err, controller.signal, DownloadError);
  } finally {
    clearTimeout(headersTimer);
  }
  if (!response.ok || !response.body) {
    await response.body?.cancel();
    opts.signal?.removeEventListener('abort', abort);
    throw new DownloadError(`download: HTTP ${response.status} from ${current.host}`);
  }
  const lengthHeader = response.headers.get('content-length');
  const contentLength =
    lengthHeader !== null && /^\d+$/.test(lengthHeader) ? Number(lengthHeader) : undefined;
  const meter = createMeter({
    expectedSize: contentLength,
    idleTimeoutMs: opts.idleTimeoutMs,
    onIdle: () => controller.abort(new DownloadStalledError('download: stalled')),
  });
  const source = Readable.fromWeb(response.body as WebReadableStream<Uint8Array>);
  source.on('error', (err) =>
    meter.destroy(asDownloadError(err, controller.signal, TruncatedDownloadError)),
  );
  meter.on('close', () => opts.signal?.removeEventListener('abort', abort));
  source.pipe(meter);
  return {
    body: meter,
    contentType: response.headers.get('content-type') ?? undefined,
    contentLength,
    digest: () => meter.digest(),
  };
}

type Meter = Transform & { digest(): { sha256: string; size: number } };

/** SHA-256 and size on the way through, an idle timer, and the Content-Length check. */
function createMeter(opts: {
  expectedSize?: number;
  idleTimeoutMs: number;
  onIdle: () => void;
}): Meter {
  const hash = createHash('sha256');
  let size = 0;
  let sha256: string | undefined;
  let idle = setTimeout(opts.onIdle, opts.idleTimeoutMs);
  const meter = new Transform({
    transform(chunk: Buffer, _encoding, callback: TransformCallback) {
      idle.refresh();
      hash.update(chunk);
      size += chunk.length;
      callback(null, chunk);
    },
    flush(callback: TransformCallback) {
      clearTimeout(idle);
      if (opts.expectedSize !== undefined && size !== opts.expectedSize) {
        callback(new TruncatedDownloadError(`download: got ${size} of ${opts.expectedSize} bytes`));
        return;
      }
      sha256 = hash.digest('hex');
      callback();
    },
    destroy(err, callback) {
      clearTimeout(idle);
      callback(err);
    },
  }) as Meter;
  meter.digest = () => {
    if (sha256 === undefined) throw new Error('download not finished');
    return { sha256, size };
  };
  idle = idle.unref();
  return meter;
}

function asDownloadError(err: unknown, signal: AbortSignal, type: typeof DownloadError): Error {
  if (signal.aborted && signal.reason instanceof Error) return signal.reason;
  if (err instanceof DownloadError) return err;
  const code = (err as { cause?: { code?: string } } | undefined)?.cause?.code;
  // undici reports a body cut short as "terminated"; the URL is never part of the message.
  const message = err instanceof Error ? err.message : String(err);
  return new type(`download: ${message}${code ? ` (${code})` : ''}`);
}
