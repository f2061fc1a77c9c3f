import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { once } from 'node:events';

const root = fileURLToPath(new URL('../../../', import.meta.url));

/**
 * Runs an app's main.ts as its own process, from source (tsx, with the workspace's source
 * condition), as `start:*` would run its build. Output is collected for assertions.
 */
export function spawnApp(app: 'worker' | 'receiver' | 'poller', env: Record<string, string>) {
  const child = spawn(
    process.execPath,
    ['--conditions=@archiver/source', '--import', 'tsx', `apps/${app}/src/main.ts`],
    {
      cwd: root,
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  return {
    child,
    output: () => output,
    exited,
    kill(signal: NodeJS.Signals) {
      child.kill(signal);
      return exited;
    },
  };
}

export type SpawnedApp = ReturnType<typeof spawnApp>;

export function isRunning(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null;
}
