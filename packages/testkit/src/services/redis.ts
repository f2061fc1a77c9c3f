import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { rmSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { freePort, makeTempDir, pickRuntime, pollUntil, type ServiceRuntime } from './runtime.js';

export type RedisService = {
  url: string;
  port: number;
  runtime: ServiceRuntime;
  /** Graceful shutdown (SIGTERM, AOF flushed) and cleanup; the service cannot be used after. */
  stop(): Promise<void>;
  /** Graceful stop, then start again on the same port with the same data dir. Also revives a killed server. */
  restart(): Promise<void>;
  /** SIGKILL: no AOF flush beyond what `appendFsync` already wrote. `restart()` brings it back. */
  kill(): Promise<void>;
};

export type StartRedisOptions = {
  appendOnly?: boolean;
  /** AOF fsync policy; `always` makes writes survive `kill()`. Default `everysec`, as Redis. */
  appendFsync?: 'always' | 'everysec' | 'no';
  /** Force a runtime; default: container when one is available, else local `redis-server`. */
  runtime?: ServiceRuntime;
  /** Local runtime: the redis-server executable (default: `redis-server` on PATH). */
  binary?: string;
};

const READY_TIMEOUT_MS = 15_000;
const STOP_GRACE_MS = 10_000;

export async function startRedis(opts: StartRedisOptions = {}): Promise<RedisService> {
  const runtime = await pickRuntime(opts.runtime);
  return runtime === 'container' ? startRedisContainer(opts) : startRedisProcess(opts);
}

function redisArgs(opts: StartRedisOptions): string[] {
  // No RDB snapshots: data durability in tests comes from the AOF alone, and only when asked.
  return [
    '--save',
    '',
    '--appendonly',
    opts.appendOnly ? 'yes' : 'no',
    '--appendfsync',
    opts.appendFsync ?? 'everysec',
  ];
}

/** Sends an inline PING; true only on `+PONG` (a loading AOF answers `-LOADING`). */
export function pingRedis(host: string, port: number, timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (data) => done(data.toString('latin1').startsWith('+PONG')));
  });
}

async function startRedisProcess(opts: StartRedisOptions): Promise<RedisService> {
  const port = await freePort();
  const dir = await makeTempDir('redis');
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, ...redisArgs(opts)];
  let child: ChildProcess | undefined;

  // A crashed test run must not leave redis-server behind: 'exit' handlers run on process.exit.
  const onParentExit = () => {
    child?.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  };
  process.on('exit', onParentExit);

  const isRunning = () =>
    child !== undefined && child.exitCode === null && child.signalCode === null;

  async function launch(): Promise<void> {
    const proc = spawn(opts.binary ?? 'redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    child = proc;
    // The last lines of redis-server's log, to explain a failed start.
    const output: string[] = [];
    const keep = (chunk: Buffer) => {
      output.push(...chunk.toString().split('\n').filter(Boolean));
      output.splice(0, output.length - 20);
    };
    proc.stdout?.on('data', keep);
    proc.stderr?.on('data', keep);
    let failure: Error | undefined;
    proc.once('error', (err: NodeJS.ErrnoException) => {
      failure =
        err.code === 'ENOENT'
          ? new Error(
              'redis-server not found on PATH and no container runtime: apt-get install -y redis-server',
            )
          : err;
    });
    proc.once('exit', (code, signal) => {
      failure ??= new Error(
        `redis-server exited (${code ?? signal}) before it was ready:\n${output.join('\n')}`,
      );
    });
    await pollUntil(
      async () => {
        if (failure) throw failure;
        return pingRedis('127.0.0.1', port);
      },
      { timeoutMs: READY_TIMEOUT_MS, what: `redis-server on port ${port}` },
    );
  }

  async function halt(signal: 'SIGTERM' | 'SIGKILL'): Promise<void> {
    const proc = child;
    if (!proc || !isRunning()) return;
    const exited = once(proc, 'exit');
    proc.kill(signal);
    const timer = setTimeout(() => proc.kill('SIGKILL'), STOP_GRACE_MS);
    try {
      await exited;
    } finally {
      clearTimeout(timer);
    }
  }

  try {
    await launch();
  } catch (err) {
    await halt('SIGKILL');
    process.off('exit', onParentExit);
    await rm(dir, { recursive: true, force: true });
    throw err;
  }

  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    runtime: 'local',
    async stop() {
      await halt('SIGTERM');
      process.off('exit', onParentExit);
      await rm(dir, { recursive: true, force: true });
    },
    async restart() {
      await halt('SIGTERM');
      await launch();
    },
    kill: () => halt('SIGKILL'),
  };
}

async function startRedisContainer(opts: StartRedisOptions): Promise<RedisService> {
  const { GenericContainer, Wait, getContainerRuntimeClient } = await import('testcontainers');
  // A fixed host port: Docker would hand out a new random one on restart and break the URL.
  const port = await freePort();
  const container = await new GenericContainer('redis:7')
    .withExposedPorts({ container: 6379, host: port })
    .withCommand(['redis-server', ...redisArgs(opts)])
    .withWaitStrategy(Wait.forLogMessage(/Ready to accept connections/))
    .start();
  const host = container.getHost();
  const waitReady = () =>
    pollUntil(() => pingRedis(host, port), {
      timeoutMs: READY_TIMEOUT_MS,
      what: `redis container on ${host}:${port}`,
    });
  await waitReady();

  // Containers outlive a crashed parent only until testcontainers' reaper (Ryuk) removes them.
  return {
    url: `redis://${host}:${port}`,
    port,
    runtime: 'container',
    async stop() {
      await container.stop();
    },
    async restart() {
      // `docker restart` also starts a container that kill() left exited; the data volume stays.
      await container.restart({ timeout: STOP_GRACE_MS });
      await waitReady();
    },
    async kill() {
      const client = await getContainerRuntimeClient();
      await client.container.getById(container.getId()).kill({ signal: 'SIGKILL' });
    },
  };
}
