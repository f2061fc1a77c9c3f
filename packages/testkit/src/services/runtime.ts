import { mkdtemp } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/** `container` = Docker/Podman via testcontainers; `local` = a process or in-process server. */
export type ServiceRuntime = 'container' | 'local';

let probe: Promise<boolean> | undefined;

/**
 * True when testcontainers finds a container runtime. Without one the probe fails within
 * milliseconds, so it is safe to ask on every start; the answer is cached per process.
 * testcontainers is imported lazily: it is slow to load and unused on the local path.
 */
export function hasContainerRuntime(): Promise<boolean> {
  probe ??= import('testcontainers')
    .then(({ getContainerRuntimeClient }) => getContainerRuntimeClient())
    .then(
      () => true,
      () => false,
    );
  return probe;
}

export async function pickRuntime(requested?: ServiceRuntime): Promise<ServiceRuntime> {
  if (requested) return requested;
  return (await hasContainerRuntime()) ? 'container' : 'local';
}

/** A port that was free a moment ago (listen on 0, read it, close). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => (port ? resolve(port) : reject(new Error('no port assigned'))));
    });
  });
}

export function makeTempDir(prefix: string): Promise<string> {
  return mkdtemp(join(tmpdir(), `archiver-testkit-${prefix}-`));
}

/** Polls `check` until it resolves true; bounded, so a broken service fails the test fast. */
export async function pollUntil(
  check: () => Promise<boolean>,
  { timeoutMs, intervalMs = 25, what }: { timeoutMs: number; intervalMs?: number; what: string },
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    }
    await sleep(intervalMs);
  }
}
