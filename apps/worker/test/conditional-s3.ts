import { once } from 'node:events';
import {
  createServer,
  request,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export type SeenRequest = { method: string; path: string; headers: IncomingHttpHeaders };

export type ConditionalS3 = {
  url: string;
  /** Every request, in arrival order. */
  seen: SeenRequest[];
  close(): void;
};

/**
 * A proxy in front of the test S3 (s3rver, which ignores `If-None-Match` and `If-Match`)
 * that records every request and answers those conditions as AWS S3 does: 412 when
 * `If-None-Match: *` meets an object or `If-Match` meets another ETag, 404 when `If-Match`
 * meets none. It checks with a HEAD first, so it is not atomic: enough for one writer.
 */
export async function startConditionalS3(target: string): Promise<ConditionalS3> {
  const upstream = new URL(target);
  const sockets = new Set<Socket>();
  const seen: SeenRequest[] = [];

  function forward(req: IncomingMessage, res: ServerResponse) {
    const out = request(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: req.method,
        path: req.url,
        headers: req.headers,
      },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      },
    );
    out.on('error', () => res.destroy());
    req.pipe(out);
  }

  /** The ETag of the object at the request's path, or undefined when there is none. */
  function currentEtag(req: IncomingMessage): Promise<string | undefined> {
    const path = (req.url ?? '/').split('?')[0];
    return new Promise((resolve, reject) => {
      const head = request(
        { host: upstream.hostname, port: upstream.port, method: 'HEAD', path },
        (up) => {
          up.resume();
          resolve(up.statusCode === 200 ? String(up.headers.etag) : undefined);
        },
      );
      head.on('error', reject);
      head.end();
    });
  }

  function refuse(res: ServerResponse, status: number, code: string) {
    res.writeHead(status, { 'content-type': 'application/xml' });
    res.end(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code></Error>`);
  }

  async function conditional(req: IncomingMessage, res: ServerResponse) {
    const etag = await currentEtag(req);
    const ifNoneMatch = req.headers['if-none-match'];
    const ifMatch = req.headers['if-match'];
    if (ifNoneMatch === '*' && etag !== undefined) {
      req.resume();
      return refuse(res, 412, 'PreconditionFailed');
    }
    if (ifMatch !== undefined && etag === undefined) {
      req.resume();
      return refuse(res, 404, 'NoSuchKey');
    }
    if (ifMatch !== undefined && ifMatch !== etag) {
      req.resume();
      return refuse(res, 412, 'PreconditionFailed');
    }
    forward(req, res);
  }

  const proxy = createServer((req, res) => {
    seen.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers });
    const guarded =
      req.method === 'PUT' &&
      (req.headers['if-none-match'] !== undefined || req.headers['if-match'] !== undefined);
    if (!guarded) return forward(req, res);
    conditional(req, res).catch(() => res.destroy());
  });
  proxy.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  proxy.listen(0, '127.0.0.1');
  await once(proxy, 'listening');
  return {
    url: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`,
    seen,
    close() {
      for (const socket of sockets) socket.destroy();
      proxy.close();
    },
  };
}

/** The request path of `key` in `bucket`, as the SDK sends it (path-style). */
export function objectPath(bucket: string, key: string): string {
  return `/${bucket}/${key.split('/').map(encodeURIComponent).join('/')}`;
}
