import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { DevError, shortPath } from './settings.js';

export type DevRedis = {
  url: string;
  /** Set when `dev` started redis-server itself (and so stops it). */
  pid?: number;
  describe: string;
  stop(): Promise<void>;
};

const LOCAL_HOSTS = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);
const READY_TIMEOUT_MS = 15_000;
const STOP_GRACE_MS = 10_000;

const installHint = (port: number) =>
  'Install Redis and run `npm run dev` again:\n' +
  '  Debian/Ubuntu: sudo apt-get install redis-server\n' +
  '  macOS:         brew install redis\n' +
  `  Docker:        docker run -d -p ${port}:6379 redis:7\n` +
  'or point REDIS_URL at a Redis you already have.';

/**
 * The Redis at `url` when it answers; otherwise a `redis-server` started on that port with
 * its data (AOF) in `dataDir`, so queued jobs and dedupe markers survive a restart of `dev`.
 */
export async function ensureRedis(url: string, dataDir: string): Promise<DevRedis> {
  const running = await serverPid(url);
  if (running !== undefined) {
    const orphan = (await leftoverPid(dataDir)) === running ? running : undefined;
    if (orphan === undefined) {
      return { url, describe: `${url} (already running)`, stop: async () => undefined };
    }
    // A redis-server from a `dev` that was killed: take it over, and stop it this time.
    return {
      url,
      pid: orphan,
      describe: `${url} (redis-server pid ${orphan} left by an earlier run, data in ${shortPath(dataDir)})`,
      stop: () => haltPid(orphan),
    };
  }
  const parsed = new URL(url);
  if (!LOCAL_HOSTS.has(parsed.hostname)) {
    throw new DevError(
      `Redis at ${parsed.host} does not answer. Start it, or unset REDIS_URL to use a local one.`,
    );
  }
  const port = Number(parsed.port || 6379);
  await mkdir(dataDir, { recursive: true });
  const child = await startRedisServer(port, dataDir, parsed.password);
  try {
    await waitUntilAnswers(url, child, dataDir);
  } catch (err) {
    await halt(child);
    throw err;
  }
  return {
    url,
    pid: child.pid,
    describe: `${url} (redis-server pid ${child.pid}, data in ${shortPath(dataDir)})`,
    stop: () => halt(child),
  };
}

/** The server's process id when a Redis answers at `url`, else undefined. */
async function serverPid(url: string): Promise<number | undefined> {
  const client = new Redis(url, {
    lazyConnect: true,
    connectTimeout: 1000,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.ping();
    // INFO may be disabled on a managed Redis: it still answers, just not with a pid.
    const info = await client.info('server').catch(() => '');
    return Number(/^process_id:(\d+)/m.exec(info)?.[1] ?? 0);
  } catch {
    return undefined;
  } finally {
    client.disconnect();
  }
}

async function startRedisServer(
  port: number,
  dir: string,
  password: string,
): Promise<ChildProcess> {
  const args = [
    ...['--port', String(port), '--bind', '127.0.0.1', '--dir', dir],
    ...['--pidfile', join(dir, 'redis-server.pid'), '--logfile', join(dir, 'redis-server.log')],
    // As in production (docs/architecture.md §11): AOF on, and never evict queue data.
    ...['--appendonly', 'yes', '--maxmemory-policy', 'noeviction', '--save', ''],
    // As docker-compose.yml: queued jobs' hashes in the compact encoding (docs/operations.md, Redis).
    ...['--hash-max-listpack-value', '4096'],
    ...(password ? ['--requirepass', decodeURIComponent(password)] : []),
  ];
  // Its own process group: Ctrl-C in the terminal must not stop Redis before the worker
  // has finished with it. `dev` stops it last.
  const child = spawn('redis-server', args, { stdio: 'ignore', detached: true });
  const [error] = await Promise.race([
    once(child, 'spawn').then(() => [undefined] as const),
    once(child, 'error') as Promise<[NodeJS.ErrnoException]>,
  ]);
  if (error?.code === 'ENOENT') {
    throw new DevError(
      `No Redis answers at 127.0.0.1:${port} and redis-server is not installed.\n${installHint(port)}`,
    );
  }
  if (error) throw error;
  // A crash of `dev` must not leave Redis behind ('exit' handlers run on process.exit too).
  const killOnExit = () => child.kill('SIGKILL');
  process.on('exit', killOnExit);
  child.once('exit', () => process.off('exit', killOnExit));
  return child;
}

async function waitUntilAnswers(url: string, child: ChildProcess, dir: string): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      const log = await readFile(join(dir, 'redis-server.log'), 'utf8').catch(() => '');
      const tail = log.trim().split('\n').slice(-5).join('\n');
      throw new DevError(
        `redis-server exited (${child.exitCode ?? child.signalCode}) while starting:\n${tail}`,
      );
    }
    if ((await serverPid(url)) !== undefined) return;
    await sleep(100);
  }
  throw new DevError(
    `redis-server did not answer within ${READY_TIMEOUT_MS / 1000} s; see ${join(dir, 'redis-server.log')}`,
  );
}

/** The pid in the pidfile of a redis-server that `dev` started, if that process still runs. */
async function leftoverPid(dir: string): Promise<number | undefined> {
  const text = await readFile(join(dir, 'redis-server.pid'), 'utf8').catch(() => '');
  const pid = Number(text.trim());
  return Number.isInteger(pid) && pid > 0 && isAlive(pid) ? pid : undefined;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function haltPid(pid: number): Promise<void> {
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + STOP_GRACE_MS;
  while (isAlive(pid) && Date.now() < deadline) await sleep(50);
  if (isAlive(pid)) process.kill(pid, 'SIGKILL');
}

/** SIGTERM (Redis flushes its AOF), then SIGKILL after a grace period. */
async function halt(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
  try {
    await exited;
  } finally {
    clearTimeout(timer);
  }
}
