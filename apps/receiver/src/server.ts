import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Listens on `port` (0 = any free port); rejects on EADDRINUSE and the like. */
export function listen(handler: RequestListener, port: number, host?: string): Promise<Server> {
  const server = createServer(handler);
  // Green-API waits up to 180 s; our answers take milliseconds. Keep-alive sockets idle longer
  // than a typical load balancer's (60 s) to avoid racing its reuse of a closing socket.
  server.keepAliveTimeout = 65_000;
  // Node's advice: headersTimeout above keepAliveTimeout.
  server.headersTimeout = 66_000;
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}

export function listenUrl(server: Server): string {
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return `http://${host}:${address.port}`;
}

/**
 * Stops accepting connections and resolves once every in-flight request has been answered.
 * Idle keep-alive sockets are closed at once, busy ones as soon as their response is sent;
 * after `graceMs` whatever is left is cut, so a stuck client cannot hold a deploy forever.
 * Resolves `true` when everything finished within the grace period.
 */
export function closeGracefully(server: Server, graceMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    let forced = false;
    const timer = setTimeout(() => {
      forced = true;
      server.closeAllConnections();
    }, graceMs);
    // A request that finishes during shutdown must not leave its socket waiting for another.
    const closeAfterResponse = () => server.closeIdleConnections();
    server.on('request', (_req, res) => res.setHeader('connection', 'close'));
    const poll = setInterval(closeAfterResponse, 50);
    server.close(() => {
      clearTimeout(timer);
      clearInterval(poll);
      resolve(!forced);
    });
    closeAfterResponse();
  });
}
