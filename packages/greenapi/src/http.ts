import { request } from 'undici';

/** One Green-API request as the client makes it: the token is in `url`, so never log it. */
export type HttpRequest = {
  method: 'GET' | 'POST' | 'DELETE';
  /** A JSON body; sent with `content-type: application/json`. */
  json?: string;
  signal: AbortSignal;
};

/** What the client reads of an answer: the whole body as text is all Green-API sends. */
export type HttpAnswer = { status: number; retryAfter: string | null; text: string };

export type HttpSend = (url: string, req: HttpRequest) => Promise<HttpAnswer>;

const JSON_HEADERS = { 'content-type': 'application/json' };

/**
 * The client's default: undici's `request` (undici 7, the library Node's `fetch` is built
 * on, without the WHATWG layer). Measured on a 2-core host: 234–267 µs of client CPU per
 * downloadFile call against 900–1,075 µs through `fetch` (bench/src/micro/greenapi-client.ts,
 * BENCHMARKS.md); a worker makes one per file. Redirects are not followed: Green-API's methods
 * answer directly, and a token in the path should not travel to another host.
 */
export const undiciSend: HttpSend = async (url, req) => {
  const { statusCode, headers, body } = await request(url, {
    method: req.method,
    headers: req.json === undefined ? undefined : JSON_HEADERS,
    body: req.json,
    signal: req.signal,
  });
  const retryAfter = headers['retry-after'];
  return {
    status: statusCode,
    retryAfter: (Array.isArray(retryAfter) ? retryAfter[0] : retryAfter) ?? null,
    text: await body.text(),
  };
};

/** The same through a `fetch` implementation: tests hand the client a fake one. */
export function fetchSend(fetchImpl: typeof fetch): HttpSend {
  return async (url, req) => {
    const response = await fetchImpl(url, {
      method: req.method,
      headers: req.json === undefined ? undefined : JSON_HEADERS,
      body: req.json,
      signal: req.signal,
    });
    return {
      status: response.status,
      retryAfter: response.headers.get('retry-after'),
      text: await response.text(),
    };
  };
}
