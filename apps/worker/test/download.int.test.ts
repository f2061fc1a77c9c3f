import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDownload } from '../src/download.js';
import { createHostGuard } from '../src/download-hosts.js';
import {
  DownloadError,
  DownloadStalledError,
  HostNotAllowedError,
  TruncatedDownloadError,
} from '../src/errors.js';

// A download host as a plain HTTP server: each path is one behaviour of a file server.
const FILE = Buffer.alloc(3 * 1024 * 1024 + 17, 0);
for (let i = 0; i < FILE.length; i += 1) FILE[i] = (i * 31) % 251;
/** Paths whose connection the server saw closed (undici keeps finished ones open). */
const closedSockets: string[] = [];
let server: Server;
let base: string;

function route(req: IncomingMessage, res: ServerResponse) {
  const path = new URL(req.url ?? '/', 'http://x').pathname;
  req.socket.once('close', () => closedSockets.push(path));
  switch (path) {
    case '/file':
      res.writeHead(200, { 'content-type': 'image/png', 'content-length': FILE.length });
      res.end(FILE);
      return;
    case '/hop':
      res.writeHead(302, { location: '/file' });
      res.end();
      return;
    case '/loop':
      res.writeHead(302, { location: '/loop' });
      res.end();
      return;
    case '/elsewhere':
      res.writeHead(302, { location: base.replace('127.0.0.1', 'localhost') + '/file' });
      res.end();
      return;
    case '/cut':
      res.writeHead(200, { 'content-length': 1000 });
      res.write(FILE.subarray(0, 400), () => res.socket?.destroy());
      return;
    case '/silent':
      return; // never answers
    case '/stall':
    case '/slow':
      res.writeHead(200, { 'content-length': 1000 });
      res.write(FILE.subarray(0, 400)); // and nothing more
      return;
    default:
      res.writeHead(404);
      res.end('no such file');
  }
}

beforeAll(async () => {
  server = createServer(route);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  server.close();
});

const guard = createHostGuard(['127.0.0.1']);
const open = (path: string, extra: { signal?: AbortSignal; idleTimeoutMs?: number } = {}) =>
  openDownload(`${base}${path}`, {
    guard,
    headersTimeoutMs: 300,
    idleTimeoutMs: extra.idleTimeoutMs ?? 300,
    signal: extra.signal,
  });

async function readAll(body: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

describe('openDownload', () => {
  it('streams the bytes with their SHA-256, size and content type', async () => {
    const d = await open('/file');
    expect(d.contentType).toBe('image/png');
    expect(d.contentLength).toBe(FILE.length);
    const bytes = await readAll(d.body);
    expect(bytes.equals(FILE)).toBe(true);
    expect(d.digest()).toEqual({
      sha256: createHash('sha256').update(FILE).digest('hex'),
      size: FILE.length,
    });
  });

  it('follows a redirect, passing each hop through the host guard', async () => {
    const d = await open('/hop');
    expect((await readAll(d.body)).equals(FILE)).toBe(true);
    await expect(open('/elsewhere')).rejects.toThrow(HostNotAllowedError);
    await expect(open('/loop')).rejects.toThrow('download: too many redirects');
  });

  it('names the status and host of a failed answer, never the path or query', async () => {
    const err = (await open('/gone?signature=SECRET123').catch((e: unknown) => e)) as Error;
    expect(err).toBeInstanceOf(DownloadError);
    expect(err.message).toBe(`download: HTTP 404 from ${new URL(base).host}`);
  });

  it('fails a body cut short of Content-Length as truncated', async () => {
    const d = await open('/cut');
    await expect(readAll(d.body)).rejects.toThrow(TruncatedDownloadError);
  });

  it('gives up on a server that sends no headers, or stops sending the body', async () => {
    await expect(open('/silent')).rejects.toThrow(
      new DownloadStalledError('download: no response headers in time'),
    );
    const d = await open('/stall');
    await expect(readAll(d.body)).rejects.toThrow(new DownloadStalledError('download: stalled'));
  });

  it('does not count a slow reader as a stalled server', async () => {
    const d = await open('/file', { idleTimeoutMs: 200 });
    await once(d.body, 'readable');
    const first = d.body.read() as Buffer;
    // Nothing read for three idle timeouts: undici's buffers fill and it stops reading.
    await sleep(600);
    const rest = await readAll(d.body);
    expect(Buffer.concat([first, rest]).equals(FILE)).toBe(true);
  });

  it("ends with the job's abort reason, and closes the request when the reader gives up", async () => {
    const controller = new AbortController();
    const d = await open('/stall', { signal: controller.signal, idleTimeoutMs: 10_000 });
    const reading = readAll(d.body);
    controller.abort(new Error('lock lost'));
    await expect(reading).rejects.toThrow('lock lost');

    const abandoned = await open('/slow', { idleTimeoutMs: 10_000 });
    abandoned.body.destroy(); // as lib-storage leaves it when an upload fails
    await expect.poll(() => closedSockets).toContain('/slow');
  });
});
