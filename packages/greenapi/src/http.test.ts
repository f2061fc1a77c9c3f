import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGreenApiClient } from './client.js';
import {
  GreenApiHttpError,
  GreenApiNetworkError,
  GreenApiRateLimitError,
  GreenApiTimeoutError,
} from './errors.js';

// The client's default transport (undici's `request`) against a real local HTTP server; the
// client's own logic is covered with a fake fetch in client.test.ts.

const TOKEN = 'secret-token-0123456789abcdef';

type Seen = { method?: string; url?: string; contentType?: string; body: string };
type Handler = (req: IncomingMessage, res: ServerResponse, seen: Seen) => void;

let server: Server;
let apiUrl: string;
let handler: Handler = () => undefined;
const seen: Seen[] = [];
/** Requests the server never answered: destroyed after each test that leaves one. */
const hanging = new Set<ServerResponse>();

beforeAll(async () => {
  server = createServer((req, res) => {
    const s: Seen = {
      method: req.method,
      url: req.url,
      contentType: req.headers['content-type'],
      body: '',
    };
    seen.push(s);
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (s.body += chunk));
    req.on('end', () => handler(req, res, s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  apiUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  for (const res of hanging) res.destroy();
  await new Promise((resolve) => server.close(resolve));
});

const client = (timeoutMs?: number) =>
  createGreenApiClient(
    { idInstance: '1101000001', apiTokenInstance: TOKEN, apiUrl, kind: 'whatsapp' },
    { timeoutMs },
  );
const ARGS = { chatId: '79001234567@c.us', idMessage: 'BAE5F4' };

/** The error as a caller could print or serialise it: none of it may hold the token. */
const printable = (err: unknown) =>
  `${String(err)} ${(err as Error).stack ?? ''} ${JSON.stringify(err)}`;

describe('the client over undici', () => {
  it('posts JSON and reads the answer', async () => {
    handler = (_req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ downloadUrl: 'https://x.storage.yandexcloud.net/a.pdf' }));
    };
    seen.length = 0;
    await expect(client().downloadFile(ARGS)).resolves.toEqual({
      downloadUrl: 'https://x.storage.yandexcloud.net/a.pdf',
    });
    expect(seen).toEqual([
      {
        method: 'POST',
        url: `/waInstance1101000001/downloadFile/${TOKEN}`,
        contentType: 'application/json',
        body: JSON.stringify(ARGS),
      },
    ]);
  });

  it('sends a GET without a body or content type', async () => {
    handler = (_req, res) => res.end('[]');
    seen.length = 0;
    await expect(client().lastIncomingMessages({ minutes: 5 })).resolves.toHaveLength(0);
    expect(seen[0]).toMatchObject({ method: 'GET', contentType: undefined, body: '' });
    expect(seen[0]?.url).toBe(`/waInstance1101000001/lastIncomingMessages/${TOKEN}?minutes=5`);
  });

  it('turns a 429 with Retry-After and a 500 into typed errors', async () => {
    handler = (_req, res) => {
      res.writeHead(429, { 'retry-after': '3' });
      res.end('Too Many Requests');
    };
    const limited = await client()
      .downloadFile(ARGS)
      .catch((e: unknown) => e);
    expect(limited).toBeInstanceOf(GreenApiRateLimitError);
    expect((limited as GreenApiRateLimitError).retryAfterMs).toBe(3000);

    handler = (_req, res) => {
      res.statusCode = 500;
      res.end('Internal error when downloading file');
    };
    const failed = await client()
      .downloadFile(ARGS)
      .catch((e: unknown) => e);
    expect(failed).toBeInstanceOf(GreenApiHttpError);
    expect(failed).toMatchObject({ status: 500, body: 'Internal error when downloading file' });
  });

  it('does not follow a redirect with the token in the path', async () => {
    handler = (_req, res) => {
      res.writeHead(302, { location: `${apiUrl}/elsewhere` });
      res.end();
    };
    seen.length = 0;
    const err = await client()
      .downloadFile(ARGS)
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ name: 'GreenApiHttpError', status: 302 });
    expect(seen).toHaveLength(1);
  });

  it('times out a server that never answers', async () => {
    handler = (_req, res) => hanging.add(res);
    const err = await client(100)
      .downloadFile(ARGS)
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GreenApiTimeoutError);
    expect(printable(err)).not.toContain(TOKEN);
  });

  it("stops when the caller's signal aborts, and says so", async () => {
    handler = (_req, res) => hanging.add(res);
    const caller = new AbortController();
    const call = client().downloadFile(ARGS, { signal: caller.signal });
    setImmediate(() => caller.abort(new Error('job cancelled')));
    const err = await call.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GreenApiNetworkError);
    expect((err as Error).message).toBe('downloadFile: aborted');
  });

  it('names only the code of a network error, never the URL', async () => {
    handler = (req) => req.socket.destroy();
    const reset = await client()
      .downloadFile(ARGS)
      .catch((e: unknown) => e);
    expect(reset).toBeInstanceOf(GreenApiNetworkError);
    expect((reset as Error).message).toMatch(/^downloadFile: network error \(\w+\)$/);
    expect(printable(reset)).not.toContain(TOKEN);

    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const refused = await createGreenApiClient({
      idInstance: '1101000001',
      apiTokenInstance: TOKEN,
      apiUrl: `http://127.0.0.1:${port}`,
      kind: 'whatsapp',
    })
      .downloadFile(ARGS)
      .catch((e: unknown) => e);
    expect((refused as Error).message).toBe('downloadFile: network error (ECONNREFUSED)');
    expect(printable(refused)).not.toContain(TOKEN);
  });
});
