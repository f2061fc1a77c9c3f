import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The workspace root: scripts run from source with the workspace's source condition. */
export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

const TAIL_CHARS = 64 * 1024;

/**
 * Runs a TypeScript entry point (path relative to the workspace root) as its own process:
 * `node --conditions=@archiver/source --import tsx <file>`. For the benchmarks' own scripts
 * (baselines); the archiver's apps run built, with `spawnApp`.
 * Only the tail of its output is kept, so a chatty process costs no memory here.
 */
export function spawnSource(file: string, env: Record<string, string>, args: string[] = []) {
  return spawnNode(file, ['--conditions=@archiver/source', '--import', 'tsx', file, ...args], env);
}

/**
 * Runs an app as production does (`pnpm start:<app>`): `node apps/<app>/dist/main.js`. Not
 * from source: tsx's transform wraps every function the code creates in a naming call, a cost
 * per webhook and per file that the built code does not have. Refuses a build older than its
 * sources, tests aside (`pnpm bench` builds first).
 */
export function spawnApp(app: 'receiver' | 'worker', env: Record<string, string>) {
  const main = `apps/${app}/dist/main.js`;
  assertBuilt(main, [`apps/${app}/src`, 'packages/core/src', 'packages/greenapi/src']);
  return spawnNode(main, [main], env);
}

function assertBuilt(main: string, sourceDirs: string[]): void {
  const built = statSync(join(ROOT, main), { throwIfNoEntry: false })?.mtimeMs ?? 0;
  for (const dir of sourceDirs) {
    for (const entry of readdirSync(join(ROOT, dir), { recursive: true, withFileTypes: true })) {
      // Tests are not built into the app: editing one does not make the build stale.
      if (!entry.isFile() || !entry.name.endsWith('.ts') || entry.name.endsWith('.test.ts')) {
        continue;
      }
      if (statSync(join(entry.parentPath, entry.name)).mtimeMs > built) {
        throw new Error(`${main} is older than ${dir}/: run \`pnpm build\` (pnpm bench does)`);
      }
    }
  }
}

export function spawnNode(file: string, nodeArgs: string[], env: Record<string, string>) {
  const child = spawn(process.execPath, nodeArgs, {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  // The output's tail, as chunks dropped from the front once the rest holds TAIL_CHARS: a
  // process that logs a line per file (the worker) costs this one, which runs the benchmarks'
  // S3 and fake Green-API, a push per chunk rather than a copy of the whole tail.
  const chunks: string[] = [];
  let held = 0;
  const keep = (text: string) => {
    chunks.push(text);
    held += text.length;
    while (chunks.length > 1 && held - (chunks[0] as string).length >= TAIL_CHARS) {
      held -= (chunks.shift() as string).length;
    }
  };
  const output = () => chunks.join('').slice(-TAIL_CHARS);
  const lineWaiters: Array<{ test: (line: string) => boolean; resolve: (line: string) => void }> =
    [];
  let partial = '';
  const onData = (d: Buffer) => {
    const text = d.toString();
    keep(text);
    // Lines are only looked at while someone waits for one; otherwise keep the last partial.
    if (lineWaiters.length === 0) {
      const end = text.lastIndexOf('\n');
      partial = end === -1 ? partial + text : text.slice(end + 1);
      return;
    }
    partial += text;
    const lines = partial.split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      for (const w of [...lineWaiters]) {
        if (w.test(line)) {
          lineWaiters.splice(lineWaiters.indexOf(w), 1);
          w.resolve(line);
        }
      }
    }
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  return {
    child,
    pid: child.pid ?? 0,
    output,
    exited,
    /** Resolves with the first output line containing `text` (rejects if the process exits first). */
    waitForLine(text: string, timeoutMs = 60_000): Promise<string> {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          reject(new Error(`${file}: no line with "${text}" in ${timeoutMs} ms:\n${output()}`));
        }, timeoutMs);
        const waiter = {
          test: (line: string) => line.includes(text),
          resolve: (line: string) => {
            clearTimeout(timer);
            resolve(line);
          },
        };
        lineWaiters.push(waiter);
        void exited.then(([code, signal]) => {
          if (!lineWaiters.includes(waiter)) return;
          clearTimeout(timer);
          reject(new Error(`${file} exited (${code ?? signal}) before "${text}":\n${output()}`));
        });
      });
    },
    async stop(signal: NodeJS.Signals = 'SIGTERM', graceMs = 15_000): Promise<void> {
      if (!isRunning(child)) return;
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      child.kill(signal);
      await exited;
      clearTimeout(timer);
    },
  };
}

export type SpawnedSource = ReturnType<typeof spawnNode>;

export function isRunning(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null;
}

/** Peak (VmHWM) and current (VmRSS) resident memory of a process, in bytes. */
export function residentMemory(pid: number): { peak: number; current: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (name: string) =>
    Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0);
  return { peak: kb('VmHWM') * 1024, current: kb('VmRSS') * 1024 };
}
