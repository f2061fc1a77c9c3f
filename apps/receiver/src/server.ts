import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** How long a client may take, and how many may be connected: Config's `http`. */
export type HttpLimits = {
  /** The whole request, headers and body (HTTP_REQUEST_TIMEOUT_MS). */
  requestTimeoutMs: number;
  /** The headers, and a new connection's first byte (HTTP_HEADERS_TIMEOUT_MS). */
  headersTimeoutMs: number;
  /** Open connections; more are closed at once (HTTP_MAX_CONNECTIONS). */
  maxConnections: number;
};

export const DEFAULT_HTTP_LIMITS: HttpLimits = {
  requestTimeoutMs: 30_000,
  headersTimeoutMs: 10_000,
  maxConnections: 1024,
};

/**
 * Listens on `port` (0 = any free port); rejects on EADDRINUSE and the like. A slow or silent
 * client is cut after the limits, so a few thousand slowloris sockets cannot hold the
 * receiver's memory and file descriptors.
 */
export function listen(
  handler: RequestListener,
  port: number,
  host?: string,
  limits: HttpLimits = DEFAULT_HTTP_LIMITS,
): Promise<Server> {
  const server = createServer(
    {
      requestTimeout: limits.requestTimeoutMs,
      headersTimeout: limits.headersTimeoutMs,
      // Node checks both timeouts on this interval (default 30 s, which would let a 10 s
      // limit run to 40 s); a tenth of the shorter keeps the overrun small and cheap.
      connectionsCheckingInterval: Math.max(
        25,
        Math.min(1000, Math.floor(limits.headersTimeoutMs / 10)),
      ),
    },
    handler,
  );
  // Green-API waits up to 180 s; our answers take milliseconds. Keep-alive sockets idle longer
  // than a typical load balancer's (60 s) to avoid racing its reuse of a closing socket.
  server.keepAliveTimeout = 65_000;
  // The timeouts above run only once a request's first byte arrives: a connection that never
  // sends one is cut by the socket's idle timeout (between requests keepAliveTimeout applies).
  server.timeout = limits.headersTimeoutMs;
  server.maxConnections = limits.maxConnections;
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
