import { parseArgs, type ParseArgsConfig } from 'node:util';
import { ID_INSTANCE_PATTERN } from '@archiver/greenapi';

/** A mistake in how the command was called: printed with the command's help, exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

type OptionSpecs = NonNullable<ParseArgsConfig['options']>;

/** Every command takes `--help` / `-h`. */
export const HELP_OPTION = { help: { type: 'boolean', short: 'h' } } as const;

/**
 * `node:util` parseArgs in strict mode: unknown flags, a missing value or a stray positional
 * become a UsageError instead of Node's own error type.
 */
type Parsed<O extends OptionSpecs> = ReturnType<
  typeof parseArgs<{ args: string[]; options: O; strict: true; allowPositionals: boolean }>
>;

export function parseCommandArgs<const O extends OptionSpecs>(
  argv: string[],
  options: O,
  allowPositionals = false,
): Parsed<O> {
  try {
    return parseArgs({ args: argv, options, strict: true, allowPositionals });
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err));
  }
}

export function positiveInt(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value) || Number(value) < 1 || !Number.isSafeInteger(Number(value))) {
    throw new UsageError(`--${flag}: expected a positive whole number, got "${value}"`);
  }
  return Number(value);
}

export function nonNegativeInt(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(Number(value))) {
    throw new UsageError(`--${flag}: expected a whole number ≥ 0, got "${value}"`);
  }
  return Number(value);
}

export function instanceId(flag: string, value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (!ID_INSTANCE_PATTERN.test(value)) {
    throw new UsageError(`--${flag}: an idInstance is digits only, got "${value}"`);
  }
  return value;
}

export function oneOf<const C extends readonly string[]>(
  flag: string,
  value: string | undefined,
  choices: C,
): C[number] | undefined {
  if (value === undefined) return undefined;
  if (!choices.includes(value)) {
    throw new UsageError(`--${flag}: expected one of ${choices.join(', ')}, got "${value}"`);
  }
  return value;
}

export function required<T>(flag: string, value: T | undefined): T {
  if (value === undefined) throw new UsageError(`--${flag} is required`);
  return value;
}
