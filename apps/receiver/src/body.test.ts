import type { IncomingMessage } from 'node:http';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { readBody } from './body.js';

/** Enough of an IncomingMessage for readBody: a readable stream with headers and `complete`. */
function fakeRequest(headers: Record<string, string> = {}) {
  const stream = new PassThrough() as PassThrough & {
    headers: Record<string, string>;
    complete: boolean;
  };
  stream.headers = headers;
  stream.complete = false;
  stream.on('end', () => (stream.complete = true));
  return { stream, req: stream as unknown as IncomingMessage };
}

describe('readBody', () => {
  it('joins chunks as UTF-8, including a character split across chunks', async () => {
    const { stream, req } = fakeRequest();
    const result = readBody(req, 100);
    const bytes = Buffer.from('{"name":"Ходабрыш"}');
    stream.write(bytes.subarray(0, 10));
    stream.end(bytes.subarray(10));
    expect(await result).toEqual({ ok: true, text: '{"name":"Ходабрыш"}' });
  });

  it('refuses a declared Content-Length over the limit without reading', async () => {
    const { stream, req } = fakeRequest({ 'content-length': '101' });
    expect(await readBody(req, 100)).toEqual({ ok: false, reason: 'too_large' });
    expect(stream.listenerCount('data')).toBe(0);
  });

  it('stops reading once the body grows past the limit', async () => {
    const { stream, req } = fakeRequest();
    const result = readBody(req, 10);
    stream.write(Buffer.alloc(8));
    stream.write(Buffer.alloc(8));
    expect(await result).toEqual({ ok: false, reason: 'too_large' });
    expect(stream.listenerCount('data')).toBe(0);
  });

  it('accepts a body of exactly the limit', async () => {
    const { stream, req } = fakeRequest();
    const result = readBody(req, 4);
    stream.end('abcd');
    expect(await result).toEqual({ ok: true, text: 'abcd' });
  });

  it('reports a client that went away mid-body', async () => {
    const { stream, req } = fakeRequest();
    const result = readBody(req, 100);
    stream.write('{"partial"');
    stream.destroy();
    expect(await result).toEqual({ ok: false, reason: 'aborted' });
  });
});
