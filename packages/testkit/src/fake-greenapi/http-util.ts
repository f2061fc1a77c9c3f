import { once } from 'node:events';
import { setTimeout as timeout } from 'node:timers/promises';
import {
  STATUS_CODES,
  type IncomingMessage,
  type OutgoingHttpHeaders,
  type ServerResponse,
} from 'node:http';
import type { CallRecord } from './types.js';

/** One request's response side; every send records the status in the call log first. */
export type Reply = {
  req: IncomingMessage;
  res: ServerResponse;
  record: CallRecord;
  /** Aborted when the client goes away or the fake closes: stops delays, long polls, streams. */
  signal: AbortSignal;
  text(status: number, body?: string, headers?: OutgoingHttpHeaders): void;
  json(status: number, value: unknown, headers?: OutgoingHttpHeaders): void;
  head(status: number, headers: OutgoingHttpHeaders): void;
};

export function createReply(
  req: IncomingMessage,
  res: ServerResponse,
  record: CallRecord,
  serverSignal: AbortSignal,
): Reply {
  const client = new AbortController();
  // 'close' on the response fires after it finished or when the socket died early.
  res.once('close', () => client.abort());
  const signal = AbortSignal.any([client.signal, serverSignal]);
  const head = (status: number, headers: OutgoingHttpHeaders) => {
    record.status = status;
    res.writeHead(status, headers);
  };
  const send = (status: number, type: string, body: string, headers: OutgoingHttpHeaders = {}) => {
    head(status, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(body), ...headers });
    res.end(body);
  };
  return {
    req,
    res,
    record,
    signal,
    head,
    text: (status, body, headers) =>
      send(status, 'text/plain; charset=utf-8', body ?? STATUS_CODES[status] ?? '', headers),
    json: (status, value, headers) =>
      send(status, 'application/json', JSON.stringify(value), headers),
  };
}

export type JsonBody = { ok: true; value: unknown } | { ok: false; message: string };

export async function readJson(req: IncomingMessage, limitBytes = 1024 * 1024): Promise<JsonBody> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limitBytes) return { ok: false, message: 'Request body too large' };
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') return { ok: true, value: {} };
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch (err) {
    return { ok: false, message: err instanceof Error ? err.message : 'Bad Request' };
  }
}

/** Resolves after `ms`, or early (never rejecting) when `signal` aborts. */
export async function sleep(ms: number, signal: AbortSignal): Promise<void> {
  await timeout(ms, undefined, { signal }).catch((err: unknown) => {
    if (!signal.aborted) throw err;
  });
}

export type Cut = { truncateAfter: number } | { stallAfter: number };

/**
 * Streams `chunks` as the body after `head` was sent, honouring backpressure. With a cut,
 * stops after N bytes and either closes the connection (truncate) or leaves it hanging
 * (stall) until the client gives up or the fake closes.
 */
export async function streamBody(reply: Reply, chunks: Iterable<Buffer>, cut?: Cut): Promise<void> {
  const { res, signal } = reply;
  const limit = cut ? ('truncateAfter' in cut ? cut.truncateAfter : cut.stallAfter) : Infinity;
  let sent = 0;
  for (const chunk of chunks) {
    if (signal.aborted || sent >= limit) break;
    const piece = chunk.length > limit - sent ? chunk.subarray(0, limit - sent) : chunk;
    sent += piece.length;
    if (!res.write(piece)) {
      try {
        await once(res, 'drain', { signal });
      } catch {
        return; // client or fake gone
      }
    }
  }
  if (signal.aborted) return;
  if (!cut) {
    res.end();
  } else if ('truncateAfter' in cut) {
    // end() flushes what was written and sends FIN; the client sees fewer bytes than
    // Content-Length. destroy() afterwards makes sure the socket is not reused.
    const socket = res.socket;
    socket?.end(() => socket.destroy());
  }
}
