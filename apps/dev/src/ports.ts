import type { Server as HttpServer } from 'node:http';
import { createServer, type Server } from 'node:net';
import { DevError } from './settings.js';

export type PortUse = { port: number; variable: string; what: string };

/**
 * Checks every port before anything starts, so a taken port is reported with the variable
 * that moves it instead of surfacing as EADDRINUSE halfway through start-up. Listening on
 * the unspecified address collides with a listener on any interface.
 */
export async function assertPortsFree(uses: PortUse[]): Promise<void> {
  const problems: string[] = [];
  const seen = new Map<number, PortUse>();
  for (const use of uses) {
    const other = seen.get(use.port);
    if (other) {
      problems.push(
        `${use.variable} and ${other.variable} are both ${use.port}: give each its own port`,
      );
      continue;
    }
    seen.set(use.port, use);
    const error = await tryListen(use.port);
    if (error === 'EADDRINUSE') {
      problems.push(
        `port ${use.port} (${use.what}) is already in use: stop what holds it (lsof -i :${use.port}) ` +
          `or pick another, e.g. ${use.variable}=${use.port + 10} npm run dev`,
      );
    } else if (error) {
      problems.push(`port ${use.port} (${use.what}, ${use.variable}) cannot be used: ${error}`);
    }
  }
  if (problems.length > 0) throw new DevError(problems.join('\n'));
}

/** Undefined when the port could be bound (and was released again), else the error code. */
function tryListen(port: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
    server.listen(port, () => server.close(() => resolve(undefined)));
  });
}

/** Starts `server` listening; rejects (EADDRINUSE and the like) instead of emitting 'error'. */
export function listenOn(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/** Closes `server` now, cutting idle and open connections (dev-only servers). */
export function closeNow(server: HttpServer): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}
