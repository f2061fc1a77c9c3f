import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { rmSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { pingRedis } from './redis.js';
import { freePort, makeTempDir, pollUntil } from './runtime.js';

const run = promisify(execFile);
const READY_TIMEOUT_MS = 20_000;
const MASTERS = 3;

export type RedisClusterService = {
  /** One node's URL: a cluster client finds the others from it. */
  url: string;
  nodes: Array<{ host: string; port: number }>;
  stop(): Promise<void>;
};

/**
 * Why a local Redis Cluster cannot start here, or undefined when it can: both `redis-server`
 * and `redis-cli` (which creates the cluster) must be on PATH. Cluster tests skip with this
 * message, never silently.
 */
export function redisClusterUnavailable(): string | undefined {
  for (const binary of ['redis-server', 'redis-cli']) {
    const probe = spawnSync(binary, ['--version'], { stdio: 'ignore' });
    if (probe.error) {
      return `${binary} not found on PATH: a Redis Cluster test needs it (apt-get install -y redis-server)`;
    }
  }
  return undefined;
}

/**
 * A real three-master Redis Cluster on free local ports, in a temp dir: three
 * `redis-server --cluster-enabled yes`, joined by `redis-cli --cluster create`, no replicas.
 * Resolves once every slot is served (`cluster_state:ok` on every node).
 */
export async function startRedisCluster(): Promise<RedisClusterService> {
  const dir = await makeTempDir('redis-cluster');
  const children: ChildProcess[] = [];
  const onParentExit = () => {
    for (const child of children) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  };
  process.on('exit', onParentExit);

  async function stop(): Promise<void> {
    await Promise.all(
      children.map(async (child) => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        const exited = once(child, 'exit');
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exited.finally(() => clearTimeout(timer));
      }),
    );
    process.off('exit', onParentExit);
    await rm(dir, { recursive: true, force: true });
  }

  try {
    const ports: number[] = [];
    for (let i = 0; i < MASTERS; i += 1) {
      const port = await freePort();
      ports.push(port);
      children.push(launchNode(port, dir));
    }
    for (const port of ports) {
      await pollUntil(() => pingRedis('127.0.0.1', port), {
        timeoutMs: READY_TIMEOUT_MS,
        what: `cluster node redis-server on port ${port}`,
      });
    }
    await run('redis-cli', [
      '--cluster',
      'create',
      ...ports.map((port) => `127.0.0.1:${port}`),
      '--cluster-replicas',
      '0',
      '--cluster-yes',
    ]);
    for (const port of ports) {
      await pollUntil(async () => (await clusterInfo(port)).includes('cluster_state:ok'), {
        timeoutMs: READY_TIMEOUT_MS,
        intervalMs: 100,
        what: `cluster_state:ok on port ${port}`,
      });
    }
    return {
      url: `redis://127.0.0.1:${ports[0]}`,
      nodes: ports.map((port) => ({ host: '127.0.0.1', port })),
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

function launchNode(port: number, dir: string): ChildProcess {
  const child = spawn(
    'redis-server',
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--dir',
      dir,
      '--cluster-enabled',
      'yes',
      '--cluster-config-file',
      join(dir, `nodes-${port}.conf`),
      '--cluster-node-timeout',
      '5000',
      '--save',
      '',
      '--appendonly',
      'no',
    ],
    { stdio: 'ignore' },
  );
  child.on('error', () => undefined);
  return child;
}

async function clusterInfo(port: number): Promise<string> {
  try {
    const { stdout } = await run('redis-cli', ['-p', String(port), 'cluster', 'info']);
    return stdout;
  } catch {
    return '';
  }
}
