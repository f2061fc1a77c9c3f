import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { freePort } from '../../packages/testkit/src/index.js';

const root = fileURLToPath(new URL('../../', import.meta.url));

type Script = ReturnType<typeof runScript>;

/** `npm run dev` / `npm run demo` as a user runs them (plain node on scripts/*.mjs). */
function runScript(script: 'dev' | 'demo', env: Record<string, string>) {
  const child = spawn(process.execPath, [`scripts/${script}.mjs`], {
    cwd: root,
    // A clean environment: nothing from the test run's shell leaks into the defaults.
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  return { child, exited, output: () => output };
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function status(url: string): Promise<number> {
  try {
    return (await fetch(url)).status;
  } catch {
    return 0;
  }
}

/** Every sidecar s3rver holds under `dir` (objects are files named `<key>._S3rver_object`). */
async function sidecarsOnDisk(
  dir: string,
): Promise<Array<{ status: string; key?: string; size?: number; reason?: { code: string } }>> {
  const files = (await readdir(dir, { recursive: true })).filter((f) =>
    f.endsWith('message.json._S3rver_object'),
  );
  return Promise.all(files.map(async (f) => JSON.parse(await readFile(join(dir, f), 'utf8'))));
}

let dataDir: string;
let env: Record<string, string>;
let dev: Script | undefined;

beforeEach(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'archiver-dev-test-'));
  const [port, metrics, simulator, control, s3, redis] = await Promise.all(
    Array.from({ length: 6 }, () => freePort()),
  );
  env = {
    ARCHIVER_DATA_DIR: dataDir,
    PORT: String(port),
    METRICS_PORT: String(metrics),
    SIMULATOR_PORT: String(simulator),
    SIMULATOR_CONTROL_PORT: String(control),
    S3RVER_PORT: String(s3),
    // Nothing listens there: dev starts its own redis-server on that port.
    REDIS_URL: `redis://127.0.0.1:${redis}`,
    // The test must never install; the workspace is installed already.
    ARCHIVER_SKIP_INSTALL: 'true',
  };
});

afterEach(async () => {
  // A failed test must not leave dev (dev.mjs, its dev.ts child) or redis-server running:
  // ask nicely first, then kill whatever is left.
  if (dev && dev.child.exitCode === null && dev.child.signalCode === null) {
    const pids = await Promise.all([
      readFile(join(dataDir, 'redis', 'redis-server.pid'), 'utf8').catch(() => ''),
      readFile(join(dataDir, 'dev.json'), 'utf8').then(
        (t) => String(JSON.parse(t).pid),
        () => '',
      ),
    ]);
    dev.child.kill('SIGINT');
    const bound = new Promise((resolve) => setTimeout(resolve, 20_000).unref());
    if ((await Promise.race([dev.exited.then(() => 'exited'), bound])) !== 'exited') {
      dev.child.kill('SIGKILL');
    }
    for (const pid of pids.map(Number)) if (pid > 0 && isAlive(pid)) process.kill(pid, 'SIGKILL');
  }
  dev = undefined;
  await rm(dataDir, { recursive: true, force: true });
});

describe('npm run dev + npm run demo', () => {
  it('runs the whole system, archives every demo file (twice), and stops cleanly on Ctrl-C', async () => {
    const running = runScript('dev', env);
    dev = running;
    await expect
      .poll(() => status(`http://127.0.0.1:${env.PORT}/readyz`), { timeout: 45_000, interval: 200 })
      .toBe(200);
    const state = JSON.parse(await readFile(join(dataDir, 'dev.json'), 'utf8')) as {
      redis: { pid?: number };
    };
    const redisPid = state.redis.pid ?? 0;
    expect(isAlive(redisPid)).toBe(true);
    expect(running.output()).toContain(`POST http://127.0.0.1:${env.PORT}/webhooks/green-api`);
    expect(running.output()).toContain(`http://127.0.0.1:${env.PORT}/admin/queues`);

    // Twice: every run uses fresh message ids, so the second one archives its own files.
    for (const run of [1, 2]) {
      const demo = runScript('demo', { ARCHIVER_DATA_DIR: dataDir });
      const [code] = await demo.exited;
      expect(code, `demo run ${run}:\n${demo.output()}`).toBe(0);
      expect(demo.output()).toContain('OK: 11 of 11 files archived byte-exact');
      expect(demo.output()).toContain('duplicate recognised');
    }

    const bucketDir = join(dataDir, 's3', 'archive');
    const sidecars = await sidecarsOnDisk(bucketDir);
    const archived = sidecars.filter((s) => s.status === 'archived');
    expect(archived).toHaveLength(22);
    expect(
      sidecars.filter((s) => s.status === 'permanent_failure' && s.reason?.code === 'no_file'),
    ).toHaveLength(2);
    for (const sidecar of archived) {
      expect((await stat(join(bucketDir, `${sidecar.key}._S3rver_object`))).size).toBe(
        sidecar.size,
      );
    }

    running.child.kill('SIGINT');
    const [code, signal] = await running.exited;
    expect({ code, signal }, running.output()).toEqual({ code: 0, signal: null });
    expect(isAlive(redisPid)).toBe(false);
    expect(existsSync(join(dataDir, 'dev.json'))).toBe(false);
  }, 90_000);

  it('refuses to start, naming the variable to change, when a port is taken', async () => {
    const blocker: Server = createServer();
    await new Promise<void>((resolve) => blocker.listen(Number(env.PORT), resolve));
    try {
      const running = runScript('dev', env);
      dev = running;
      const [code] = await running.exited;
      expect(code).toBe(1);
      expect(running.output()).toContain(`port ${env.PORT} (receiver) is already in use`);
      expect(running.output()).toContain(`PORT=${Number(env.PORT) + 10} npm run dev`);
      // Nothing was started: the check runs before Redis.
      expect(existsSync(join(dataDir, 'redis'))).toBe(false);
    } finally {
      await new Promise<void>((resolve) => blocker.close(() => resolve()));
    }
  }, 30_000);

  it('tells the user to start dev first when demo runs alone', async () => {
    const demo = runScript('demo', { ARCHIVER_DATA_DIR: dataDir });
    const [code] = await demo.exited;
    expect(code).toBe(2);
    expect(demo.output()).toContain('Start it in another terminal with `npm run dev`');
  }, 30_000);
});
