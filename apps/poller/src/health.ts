import { createServer, type Server } from 'node:http';
import type { Metrics } from '@archiver/core';

/**
 * `/healthz` (alive), `/readyz` (Redis answers: polled notifications can be stored),
 * `/metrics`. Three routes on plain node:http.
 */
export function createHealthServer(deps: {
  registry: Metrics['registry'];
  ready: () => Promise<boolean>;
}): Server {
  return createServer((req, res) => {
    const send = (status: number, body: string, type = 'text/plain; charset=utf-8') => {
      res.writeHead(status, { 'content-type': type });
      res.end(body);
    };
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET') return send(405, 'method not allowed\n');
    if (path === '/healthz') return send(200, 'ok\n');
    if (path === '/readyz') {
      void deps.ready().then(
        (ok) => (ok ? send(200, 'ready\n') : send(503, 'not ready: redis\n')),
        () => send(503, 'not ready: redis\n'),
      );
      return;
    }
    if (path === '/metrics') {
      void deps.registry.metrics().then(
        (text) => send(200, text, deps.registry.contentType),
        () => send(500, 'metrics unavailable\n'),
      );
      return;
    }
    send(404, 'not found\n');
  });
}
