import type { ServerResponse } from 'node:http';

/**
 * Webhook answers, built once: status, headers and body bytes are fixed, so answering costs
 * one `writeHead` + `end` (docs/decisions.md §4: pre-built responses, no ETag).
 */
export type Prebuilt = { status: number; headers: Record<string, string>; body: Buffer };

function prebuilt(status: number, payload: object, extra: Record<string, string> = {}): Prebuilt {
  const body = Buffer.from(JSON.stringify(payload));
  return {
    status,
    headers: {
      'content-type': 'application/json; charset=utf-8',
      'content-length': String(body.length),
      ...extra,
    },
    body,
  };
}

// Answers sent before the body has been read close the connection: the unread rest of a
// refused body is not worth receiving.
const CLOSE = { connection: 'close' };

export const RESPONSES = {
  /** Exactly 200: Green-API's behaviour on 201/204 is not documented (docs/greenapi.md §7.2). */
  ok: prebuilt(200, { ok: true }),
  invalidJson: prebuilt(400, { ok: false, error: 'invalid_json' }),
  unauthorized: prebuilt(401, { ok: false, error: 'unauthorized' }),
  unauthorizedUnread: prebuilt(401, { ok: false, error: 'unauthorized' }, CLOSE),
  tooLarge: prebuilt(413, { ok: false, error: 'too_large' }, CLOSE),
  /** A bug, never an expected outcome; Green-API redelivers it like any non-200. */
  internal: prebuilt(500, { ok: false, error: 'internal' }),
  /** Green-API redelivers after 60 s whatever we say; the header tells other clients the same. */
  unavailable: prebuilt(503, { ok: false, error: 'unavailable' }, { 'retry-after': '60' }),
} as const;

export function send(res: ServerResponse, response: Prebuilt): void {
  if (res.headersSent) return;
  res.writeHead(response.status, response.headers).end(response.body);
}
