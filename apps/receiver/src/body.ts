import type { IncomingMessage } from 'node:http';

export type BodyResult =
  | { ok: true; text: string }
  | { ok: false; reason: 'too_large' }
  /** The client went away (or the socket failed) before the body was complete. */
  | { ok: false; reason: 'aborted' };

/**
 * Reads a request body as UTF-8 text, refusing more than `limit` bytes. Used instead of
 * `express.json()` so the body is parsed exactly once and nothing is read before the token
 * check (docs/decisions.md §4). A declared Content-Length over the limit is refused
 * before a byte is read; a body that grows past it stops being read at once (the caller
 * answers 413 and closes the connection).
 */
export function readBody(req: IncomingMessage, limit: number): Promise<BodyResult> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) {
    return Promise.resolve({ ok: false, reason: 'too_large' });
  }

  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const finish = (result: BodyResult) => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onAbort);
      req.off('close', onClose);
      resolve(result);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.pause();
        finish({ ok: false, reason: 'too_large' });
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => finish({ ok: true, text: decode(chunks, size) });
    const onAbort = () => finish({ ok: false, reason: 'aborted' });
    // 'close' before 'end' means the body never completed.
    const onClose = () => {
      if (!req.complete) onAbort();
    };
    req.on('data', onData);
    req.once('end', onEnd);
    req.once('error', onAbort);
    req.once('close', onClose);
  });
}

function decode(chunks: Buffer[], size: number): string {
  if (chunks.length === 1) return (chunks[0] as Buffer).toString('utf8');
  return Buffer.concat(chunks, size).toString('utf8');
}
