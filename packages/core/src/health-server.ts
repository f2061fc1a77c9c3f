import { createServer, type Server } from 'node:http';
import type { Registry } from 'prom-client';

/**
 * `/healthz` (the process is alive), `/readyz` (every check passes: Redis and the bucket),
 * `/metrics`. Plain node:http: three routes do not need a framework.
 */
export function createHealthServer(deps: {
  registry: Registry;
  checks: Record<string, () => Promise<unknown>>;
  timeoutMs?: number;
}): Server {
  const timeoutMs = deps.timeoutMs ?? 2000;
  return createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET') return send(405, 'method not allowed\n');
    if (path === '/healthz') return send(200, 'ok\n');
    if (path === '/readyz') {
      void ready().then(
        (failed) =>
          failed.length === 0
            ? send(200, 'ready\n')
            : send(503, `not ready: ${failed.join(', ')}\n`),
        () => send(503, 'not ready\n'),
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

    function send(status: number, body: string, type = 'text/plain; charset=utf-8') {
      res.writeHead(status, { 'content-type': type });
      res.end(body);
    }
  });

  async function ready(): Promise<string[]> {
    const results = await Promise.all(
      Object.entries(deps.checks).map(async ([name, check]) => {
        try {
          await withTimeout(check(), timeoutMs);
          return undefined;
        } catch {
          return name;
        }
      }),
    );
    return results.filter((name): name is string => name !== undefined);
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('timed out')), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
