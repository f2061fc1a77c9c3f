import {
  createIngestPath,
  createQuarantine,
  type QuarantineEntry,
  forEachLimit,
} from '@archiver/core';
import { HELP_OPTION, parseCommandArgs, positiveInt, UsageError } from '../args.js';
import { keysOf, type CliDeps } from '../deps.js';
import { plural } from '../format.js';
import { EXIT, writeJson, type Command } from './command.js';

const DEFAULT_LIMIT = 20;
const PREVIEW_CHARS = 160;
const REPLAY_CONCURRENCY = 32;

function quarantineOf(deps: CliDeps) {
  return createQuarantine(deps.redis, keysOf(deps.config), deps.config.quarantineMax);
}

export async function listQuarantine(
  deps: CliDeps,
  limit: number,
): Promise<{ total: number; entries: QuarantineEntry[] }> {
  const quarantine = quarantineOf(deps);
  return { total: await quarantine.size(), entries: await quarantine.list(0, limit) };
}

export function formatQuarantineList({
  total,
  entries,
}: {
  total: number;
  entries: QuarantineEntry[];
}): string {
  if (total === 0) return 'Quarantine is empty.\n';
  const lines = [`Quarantine: ${plural(total, 'body', 'bodies')}, newest ${entries.length} shown`];
  for (const e of entries) {
    const who = [
      e.idInstance ? `instance ${e.idInstance}` : 'no idInstance',
      e.typeWebhook ?? 'no typeWebhook',
    ].join(', ');
    lines.push(
      '',
      `${e.id}  ${new Date(e.receivedAt).toISOString()}  ${who}  ${Buffer.byteLength(e.body)} bytes`,
    );
    lines.push(`  reason: ${e.reason}`);
    const flat = e.body.replace(/\s+/g, ' ');
    lines.push(
      `  body:   ${flat.length > PREVIEW_CHARS ? `${flat.slice(0, PREVIEW_CHARS)}…` : flat}`,
    );
  }
  return `${lines.join('\n')}\n`;
}

export type ReplayOutcome =
  | { id: string; outcome: 'accepted' | 'duplicate'; jobId: string }
  | { id: string; outcome: 'ignored'; typeWebhook: string }
  | { id: string; outcome: 'quarantined'; reason: string; keptId: string }
  | { id: string; outcome: 'not_found' };

/**
 * Feeds quarantined bodies through the same ingest path as the receiver. An entry that now
 * becomes a job (or a known non-file type, or a duplicate) leaves the quarantine; one that is
 * still unrecognised stays as it was: the copy ingest just quarantined is dropped again, so
 * a failed replay neither duplicates entries nor loses the original's id and receive time.
 */
export async function replayQuarantine(
  deps: CliDeps,
  ids: string[] | 'all',
): Promise<ReplayOutcome[]> {
  const { keys, quarantine, ingest } = createIngestPath(deps.redis, deps.config, {
    queue: deps.queue,
    recordQueue: deps.recordQueue,
  });
  // Ids only (bodies can be ~100 KB each): the entries are read one by one below.
  const targets = ids === 'all' ? await deps.redis.zrevrange(keys.quarantine, 0, -1) : ids;
  // In the order asked for (newest first for --all), whatever order they finish in.
  const outcomes: ReplayOutcome[] = [];

  await forEachLimit(targets.entries(), REPLAY_CONCURRENCY, async ([index, id]) => {
    outcomes[index] = await replayOne(id);
  });
  return outcomes;

  async function replayOne(id: string): Promise<ReplayOutcome> {
    const entry = await quarantine.get(id);
    if (!entry) return { id, outcome: 'not_found' };
    let body: unknown;
    try {
      body = JSON.parse(entry.body);
    } catch {
      return { id, outcome: 'quarantined', reason: 'body is not JSON', keptId: id };
    }
    const result = await ingest(body, entry.body, 'replay');
    switch (result.outcome) {
      case 'accepted':
      case 'duplicate':
        await quarantine.remove(id);
        return { id, outcome: result.outcome, jobId: result.jobId };
      case 'ignored':
        await quarantine.remove(id);
        return { id, outcome: 'ignored', typeWebhook: result.typeWebhook };
      case 'quarantined':
        // Ingest keeps a replayed body where it is (no copy): the entry stays as it was.
        return { id, outcome: 'quarantined', reason: result.reason, keptId: id };
    }
  }
}

export function formatReplay(outcomes: ReplayOutcome[]): string {
  if (outcomes.length === 0) return 'Quarantine is empty: nothing to replay.\n';
  const lines = outcomes.map((o) => {
    switch (o.outcome) {
      case 'accepted':
        return `${o.id}  accepted: job ${o.jobId} (entry removed)`;
      case 'duplicate':
        return `${o.id}  duplicate of job ${o.jobId} (entry removed)`;
      case 'ignored':
        return `${o.id}  ${o.typeWebhook}: a known type without a file (entry removed)`;
      case 'quarantined':
        return `${o.id}  still unrecognised: ${o.reason} (kept${o.keptId === o.id ? '' : ` as ${o.keptId}`})`;
      case 'not_found':
        return `${o.id}  no such quarantine entry`;
    }
  });
  const count = (kind: ReplayOutcome['outcome']) =>
    outcomes.filter((o) => o.outcome === kind).length;
  lines.push(
    '',
    `Replayed ${outcomes.length}: ${count('accepted')} accepted, ${count('duplicate')} duplicate, ` +
      `${count('ignored')} ignored, ${count('quarantined')} still quarantined` +
      (count('not_found') > 0 ? `, ${count('not_found')} not found` : ''),
  );
  return `${lines.join('\n')}\n`;
}

/** Anything left for the operator (a body still unrecognised, an unknown id) is a finding. */
export function replayExitCode(outcomes: ReplayOutcome[]): number {
  return outcomes.some((o) => o.outcome === 'quarantined' || o.outcome === 'not_found')
    ? EXIT.findings
    : EXIT.ok;
}

const HELP = `Usage: archiver quarantine list [--limit N] [--json]
       archiver quarantine replay (--id ID | --all)

Authenticated webhook bodies the receiver did not recognise are kept in quarantine.

  list     newest first, with the reason and a preview of each body
           --limit N   how many (default ${DEFAULT_LIMIT})
           --json      full entries, bodies included
  replay   feed bodies through ingest again (after a fix, or after the body was repaired):
           a body that now becomes a job (or is a duplicate, or a known type without a file)
           leaves the quarantine; one still unrecognised stays. Exit code 1 if any stays.
           --id ID     one entry (repeatable)
           --all       every entry
  -h, --help
`;

export const quarantineCommand: Command = {
  name: 'quarantine',
  summary: 'list or replay quarantined webhook bodies (list | replay)',
  help: HELP,
  parse(argv) {
    const { values, positionals } = parseCommandArgs(
      argv,
      {
        ...HELP_OPTION,
        limit: { type: 'string' },
        json: { type: 'boolean' },
        id: { type: 'string', multiple: true },
        all: { type: 'boolean' },
      },
      true,
    );
    if (values.help) return 'help';
    const [sub, ...extra] = positionals;
    if (extra.length > 0) throw new UsageError(`unexpected argument "${extra[0]}"`);
    if (sub === 'list') {
      if (values.id || values.all) {
        throw new UsageError('--id and --all belong to "quarantine replay"');
      }
      const limit = positiveInt('limit', values.limit) ?? DEFAULT_LIMIT;
      return async (deps) => {
        const listed = await listQuarantine(deps, limit);
        if (values.json) writeJson(deps, listed);
        else deps.out.write(formatQuarantineList(listed));
        return EXIT.ok;
      };
    }
    if (sub === 'replay') {
      if (values.limit !== undefined || values.json) {
        throw new UsageError('--limit and --json belong to "quarantine list"');
      }
      const ids = values.id ?? [];
      if (ids.length > 0 === (values.all ?? false)) {
        throw new UsageError('quarantine replay: give --id ID or --all (not both)');
      }
      return async (deps) => {
        const outcomes = await replayQuarantine(deps, values.all ? 'all' : ids);
        deps.out.write(formatReplay(outcomes));
        return replayExitCode(outcomes);
      };
    }
    throw new UsageError(
      sub === undefined
        ? 'quarantine: say "list" or "replay"'
        : `quarantine: unknown subcommand "${sub}"`,
    );
  },
};
