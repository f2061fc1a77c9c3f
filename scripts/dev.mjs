// `npm run dev` on a machine with nothing but Node and npm: checks Node, installs the
// workspace when node_modules is missing or differs from the lockfile (pnpm through npx, at
// the version package.json pins), then runs apps/dev from source (tsx, no build step),
// forwarding signals so Ctrl-C stops everything cleanly. No dependencies on purpose.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const root = fileURLToPath(new URL('..', import.meta.url));

/** Exits with a clear message unless Node is within package.json's `engines`. */
export function checkNode() {
  const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
  if (major < 20 || (major === 20 && minor < 19)) {
    fail(
      `greenapi-archiver needs Node 20.19 or newer; this is ${process.version}.\n` +
        'Install it from https://nodejs.org or with `nvm install` (the repository has an .nvmrc).',
    );
  }
}

/**
 * True when node_modules holds what pnpm-lock.yaml asks for. pnpm keeps a copy of the
 * lockfile it installed in node_modules/.pnpm/lock.yaml; pnpm 11+ writes its own version pin
 * as a first YAML document of pnpm-lock.yaml, so the last document is what is compared.
 */
export function isInstalled() {
  const installed = join(root, 'node_modules', '.pnpm', 'lock.yaml');
  if (!existsSync(installed) || !existsSync(join(root, 'node_modules', 'tsx', 'package.json'))) {
    return false;
  }
  const wanted = readFileSync(join(root, 'pnpm-lock.yaml'), 'utf8')
    .split(/^---\n/m)
    .at(-1);
  return wanted === readFileSync(installed, 'utf8');
}

export function ensureInstalled() {
  if (isInstalled()) return;
  if (process.env.ARCHIVER_SKIP_INSTALL === 'true') {
    process.stderr.write(
      'dev: node_modules looks out of date; ARCHIVER_SKIP_INSTALL=true, not installing\n',
    );
    return;
  }
  const pnpm =
    JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).packageManager ?? 'pnpm';
  process.stdout.write(`dev: installing dependencies (npx -y ${pnpm} install)…\n`);
  const result = spawnSync('npx', ['-y', pnpm, 'install'], {
    cwd: root,
    stdio: 'inherit',
    shell: process.platform === 'win32',
  });
  if (result.status !== 0) {
    fail(
      `dev: \`npx -y ${pnpm} install\` failed (${result.error?.message ?? `exit ${result.status}`}); fix the error above and run again.`,
    );
  }
}

/**
 * Runs a TypeScript entry from source in a child Node and mirrors its exit. Signals are
 * forwarded; the child ignores a second copy (Ctrl-C reaches the whole process group).
 */
export function runSource(entry, args = []) {
  const node = ['--conditions=@archiver/source', '--import', 'tsx'];
  const child = spawn(process.execPath, [...node, entry, ...args], {
    cwd: root,
    stdio: 'inherit',
    // The AWS SDK warns on Node 20 that its 2027 releases will need Node 22. The repository
    // pins the SDK and supports Node 20 (engines), so on a laptop it is only noise.
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', ...process.env },
  });
  const forward = (signal) => child.kill(signal);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, forward);
  child.on('error', (err) => fail(`could not start ${entry}: ${err.message}`));
  child.on('exit', (code, signal) =>
    process.exit(code ?? (signal ? 128 + signalNumber(signal) : 1)),
  );
}

function signalNumber(signal) {
  return { SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGTERM: 15 }[signal] ?? 0;
}

function fail(message) {
  process.stderr.write(`${message}\n`);
  process.exit(1);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  checkNode();
  ensureInstalled();
  runSource('apps/dev/src/dev.ts', process.argv.slice(2));
}
