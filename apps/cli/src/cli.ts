import type { Writable } from 'node:stream';
import { ConfigError, configSecrets, loadConfig, scrubSecrets, type Config } from '@archiver/core';
import { UsageError } from './args.js';
import { EXIT, type Command } from './commands/command.js';
import { COMMANDS } from './commands/index.js';
import { closeDeps, createDeps, type CliDeps } from './deps.js';

export type CliIo = { out: Writable; err: Writable };

/** Builds the connections for a run and says how to release them; tests pass their own. */
export type DepsFactory = (
  config: Config,
  io: CliIo,
) => Promise<{ deps: CliDeps; close(): Promise<void> }>;

const realDeps: DepsFactory = async (config, io) => {
  const deps = await createDeps(config, io);
  return { deps, close: () => closeDeps(deps) };
};

export function globalHelp(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return [
    'Usage: archiver <command> [options]',
    '',
    'Operations on the greenapi-archiver queue and archive, configured from the same',
    'environment as the worker (REDIS_URL, QUEUE_PREFIX, S3_*, GREEN_API_INSTANCES, ...).',
    '',
    'Commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'Run "archiver <command> --help" for its options.',
    '',
    'Exit codes: 0 ok; 1 findings (verify mismatches, unreadable sidecars, bodies still',
    'quarantined); 2 usage or configuration error; 3 Redis or S3 failed.',
    '',
  ].join('\n');
}

/**
 * The whole CLI as a function: arguments → exit code. Arguments are checked before the
 * configuration, and both before any connection is opened, so `--help` and mistakes need
 * neither Redis nor S3.
 */
export async function runCli(
  argv: string[],
  env: Record<string, string | undefined>,
  io: CliIo,
  makeDeps: DepsFactory = realDeps,
): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined) {
    io.err.write(globalHelp());
    return EXIT.usage;
  }
  if (name === '--help' || name === '-h' || name === 'help') {
    const topic = COMMANDS.find((c) => c.name === rest[0]);
    io.out.write(topic ? topic.help : globalHelp());
    return EXIT.ok;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) {
    io.err.write(`archiver: unknown command "${name}"\n\n${globalHelp()}`);
    return EXIT.usage;
  }

  let run: ReturnType<Command['parse']>;
  try {
    run = command.parse(rest);
  } catch (err) {
    return usageFailure(io, command, err);
  }
  if (run === 'help') {
    io.out.write(command.help);
    return EXIT.ok;
  }
  if (typeof run === 'object') {
    // Needs neither the configuration nor a connection (verify --export: the zip alone).
    try {
      return await run.offline(io);
    } catch (err) {
      if (err instanceof UsageError) return usageFailure(io, command, err);
      io.err.write(
        `archiver ${name} failed: ${err instanceof Error ? err.message : String(err)}\n`,
      );
      return EXIT.failed;
    }
  }

  let config: Config;
  try {
    config = loadConfig(env, 'cli');
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    io.err.write(`archiver: ${err.message}\n`);
    return EXIT.usage;
  }
  const scrub = (text: string) => scrubSecrets(text, configSecrets(config));

  let made: Awaited<ReturnType<DepsFactory>>;
  try {
    made = await makeDeps(config, io);
  } catch (err) {
    io.err.write(`archiver ${name}: ${scrub(err instanceof Error ? err.message : String(err))}\n`);
    return EXIT.failed;
  }
  try {
    return await run(made.deps);
  } catch (err) {
    if (err instanceof UsageError) return usageFailure(io, command, err);
    const text = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    io.err.write(`archiver ${name} failed: ${scrub(text)}\n`);
    return EXIT.failed;
  } finally {
    await made.close();
  }
}

function usageFailure(io: CliIo, command: Command, err: unknown): number {
  if (!(err instanceof UsageError)) throw err;
  io.err.write(
    `archiver ${command.name}: ${err.message}\nRun "archiver ${command.name} --help" for usage.\n`,
  );
  return EXIT.usage;
}
