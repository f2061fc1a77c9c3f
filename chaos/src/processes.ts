import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const TAIL_CHARS = 32 * 1024;

/**
 * A worker process from source (`apps/worker/src/main.ts` under tsx with the workspace's source
 * condition), as `start:worker` runs its build. Only the tail of its output is kept.
 */
export function spawnWorker(env: Record<string, string>) {
  const child = spawn(
    process.execPath,
    ['--conditions=@archiver/source', '--import', 'tsx', 'apps/worker/src/main.ts'],
    { cwd: ROOT, env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let tail = '';
  let started = false;
  const onData = (d: Buffer) => {
    const text = d.toString();
    if (!started && text.includes('worker started')) started = true;
    tail = (tail + text).slice(-TAIL_CHARS);
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  const running = () => child.exitCode === null && child.signalCode === null;
  return {
    pid: child.pid ?? 0,
    output: () => tail,
    started: () => started,
    running,
    exited,
    async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
      if (!running()) return;
      child.kill(signal);
      await exited;
    },
    /** SIGTERM, then SIGKILL after `graceMs`. */
    async stop(graceMs = 10_000): Promise<void> {
      if (!running()) return;
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      child.kill('SIGTERM');
      await exited;
      clearTimeout(timer);
    },
  };
}

export type WorkerProcess = ReturnType<typeof spawnWorker>;
