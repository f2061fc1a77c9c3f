import { pino } from 'pino';
import {
  BackfillUnknownInstanceError,
  createBackfill,
  createJobWriter,
  createRateLimiter,
  createRecordJobWriter,
  createRecordedIndex,
  instanceMap,
  retentionResolver,
  type BackfillProgress,
  type BackfillRequest,
  type BackfillSummary,
} from '@archiver/core';
import { createGreenApiClient, isError } from '@archiver/greenapi';
import {
  HELP_OPTION,
  instanceId,
  parseCommandArgs,
  positiveInt,
  required,
  UsageError,
} from '../args.js';
import { keysOf, type CliDeps } from '../deps.js';
import { formatDuration, plural } from '../format.js';
import { EXIT, writeJson, type Command } from './command.js';

/**
 * One reconciliation run in this process, through core's backfill (the same code the
 * worker's scheduled runs use): the journals of the last N minutes, or one chat's history.
 * Journal calls share the instance's Redis rate budget with the running workers.
 */
export async function runBackfill(
  deps: CliDeps,
  request: BackfillRequest,
): Promise<BackfillSummary> {
  const keys = keysOf(deps.config);
  const instances = instanceMap(deps.config.instances);
  const backfill = createBackfill({
    writer: createJobWriter({
      redis: deps.redis,
      queue: deps.queue,
      keys,
      retentionDays: retentionResolver(instances, deps.config.retentionDays),
    }),
    records: createRecordJobWriter(deps.recordQueue),
    // Read only: the worker's record writer keeps it (its window: the worker's config).
    recorded: createRecordedIndex(deps.redis, deps.config.queuePrefix, 0),
    limiter: createRateLimiter(deps.redis, keys),
    clientFor: (instance) =>
      createGreenApiClient({
        idInstance: instance.idInstance,
        apiTokenInstance: instance.apiTokenInstance,
        apiUrl: instance.apiUrl,
        kind: instance.kind ?? 'whatsapp',
      }),
    instances,
    retentionDays: deps.config.retentionDays,
    windowMinutes: deps.config.backfill.windowMinutes,
    logger: deps.logger ?? pino({ level: 'silent' }),
  });
  // One line per journal read (two or one per run, at most 1/s): progress needs no redraw.
  return backfill.run(request, {
    onProgress: (p) => deps.err.write(`${describeProgress(p)}\n`),
  });
}

function describeProgress(p: BackfillProgress): string {
  return `backfill ${p.idInstance}: ${p.method} read; so far ${plural(p.found, 'file')} found, ${p.enqueued} enqueued, ${plural(p.messagesFound, 'other message')} found, ${p.messagesEnqueued} enqueued, ${p.alreadyKnown} already known`;
}

export function formatBackfill(s: BackfillSummary): string {
  const lines = [
    `Backfill of instance ${s.idInstance} (${s.mode === 'chat' ? 'chat history' : 'journals'}), ${formatDuration(s.durationMs)}`,
    `  journal entries read      ${s.scanned}`,
    `  files found               ${s.found}`,
    `  already archived/queued   ${s.alreadyKnown}`,
    `  enqueued                  ${s.enqueued}`,
    `  messages without a file   ${s.messagesFound}`,
    `  messages enqueued         ${s.messagesEnqueued}`,
    `  past their deadline       ${s.skippedExpired}`,
  ];
  if (s.rateLimited > 0) lines.push(`  rate limited (waited)     ${s.rateLimited}`);
  return `${lines.join('\n')}\n`;
}

const HELP = `Usage: archiver backfill --instance ID [--minutes N] [--json]
       archiver backfill --instance ID --chat CHAT_ID [--count N] [--json]

Reads Green-API's journals (lastIncomingMessages + lastOutgoingMessages of the last N
minutes; default BACKFILL_WINDOW_MINUTES) or one chat's history (getChatHistory, the newest N
messages) and enqueues every file message that is neither queued nor archived yet.
Journal calls are limited to 1 request/s per instance and method, shared with the workers.

Options:
  --instance ID   the idInstance (must be configured), required
  --minutes N     journal window in minutes
  --chat CHAT_ID  read this chat's history instead of the journals
  --count N       with --chat: how many of its newest messages
  --json          print the summary as JSON
  -h, --help      this help
`;

export const backfillCommand: Command = {
  name: 'backfill',
  summary: 'enqueue file messages the webhooks missed, from the journals or one chat',
  help: HELP,
  parse(argv) {
    const { values } = parseCommandArgs(argv, {
      ...HELP_OPTION,
      instance: { type: 'string' },
      minutes: { type: 'string' },
      chat: { type: 'string' },
      count: { type: 'string' },
      json: { type: 'boolean' },
    });
    if (values.help) return 'help';
    const idInstance = required('instance', instanceId('instance', values.instance));
    const minutes = positiveInt('minutes', values.minutes);
    const count = positiveInt('count', values.count);
    let request: BackfillRequest;
    if (values.chat !== undefined) {
      if (minutes !== undefined) {
        throw new UsageError('--minutes reads the journals; with --chat use --count');
      }
      if (values.chat === '') throw new UsageError('--chat: a chat id is required');
      request = { idInstance, chatId: values.chat, ...(count === undefined ? {} : { count }) };
    } else {
      if (count !== undefined) throw new UsageError('--count goes with --chat');
      request = { idInstance, ...(minutes === undefined ? {} : { minutes }) };
    }
    return async (deps) => {
      if (!deps.config.instances.some((i) => i.idInstance === idInstance)) {
        throw new UsageError(`--instance: ${idInstance} is not a configured instance`);
      }
      let summary: BackfillSummary;
      try {
        summary = await runBackfill(deps, request);
      } catch (err) {
        if (isError(err, BackfillUnknownInstanceError)) throw new UsageError(err.message);
        throw err;
      }
      if (values.json) writeJson(deps, summary);
      else deps.out.write(formatBackfill(summary));
      return EXIT.ok;
    };
  },
};
