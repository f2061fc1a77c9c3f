import { once } from 'node:events';
import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export type S3Proxy = { url: string; close(): void };

/** Headers to add to a forwarded answer, given the request and the upstream status. */
export type AnswerHeaders = (req: IncomingMessage, status: number) => Record<string, string>;

/**
 * An HTTP proxy in front of the test S3, for tests that must see or disturb what the worker
 * sends. `intercept` sees every request first: it may look at it, or take it over by
 * returning true, in which case the request is not forwarded. `addHeaders` may add headers
 * to a forwarded answer (what a store s3rver is not would say, e.g. a version id).
 */
export async function startS3Proxy(
  target: string,
  intercept: (req: IncomingMessage, res: ServerResponse) => boolean,
  addHeaders?: AnswerHeaders,
): Promise<S3Proxy> {
  const upstream = new URL(target);
  const sockets = new Set<Socket>();
  const proxy = createServer((req, res) => {
    if (intercept(req, res)) return;
    const out = request(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: req.method,
        path: req.url,
        headers: req.headers,
      },
      (up) => {
        const status = up.statusCode ?? 502;
        res.writeHead(status, { ...up.headers, ...addHeaders?.(req, status) });
        up.pipe(res);
      },
    );
    out.on('error', () => res.destroy());
    req.pipe(out);
  });
  proxy.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  proxy.listen(0, '127.0.0.1');
  await once(proxy, 'listening');
  return {
    url: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`,
    close() {
      // A request the test took over is never answered: its connection would keep the
      // server open.
      for (const socket of sockets) socket.destroy();
      proxy.close();
    },
  };
}
