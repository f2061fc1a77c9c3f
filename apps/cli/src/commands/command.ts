import type { Writable } from 'node:stream';
import type { CliDeps } from '../deps.js';

export const EXIT = {
  ok: 0,
  /** The command ran and found something to look at (verify mismatches, …). */
  findings: 1,
  /** Bad arguments or configuration: nothing was done. */
  usage: 2,
  /** Redis or S3 failed or could not be reached: the answer is incomplete. */
  failed: 3,
} as const;

export type CommandRun = (deps: CliDeps) => Promise<number>;

/** A run that needs no configuration, Redis or S3 (`verify --export`). */
export type OfflineRun = {
  offline(io: { out: Writable; err: Writable }): Promise<number>;
};

export type Command = {
  name: string;
  /** One line for `archiver --help`. */
  summary: string;
  /** The command's own `--help`. */
  help: string;
  /** Parses the arguments after the command name; throws UsageError. */
  parse(argv: string[]): CommandRun | OfflineRun | 'help';
};

export function writeJson(deps: Pick<CliDeps, 'out'>, value: unknown): void {
  deps.out.write(`${JSON.stringify(value, null, 2)}\n`);
}
