import { z } from 'zod';
import { holdActorSchema, holdReasonSchema, holdSelectionSchema } from '@archiver/core';
import { defaultActor } from '@archiver/custody';
import { HELP_OPTION, parseCommandArgs, UsageError } from '../args.js';
import { clearHold, listHolds, setHold } from '../hold-actions.js';
import type { Command } from './command.js';

const HELP = `Usage: archiver hold set   --instance ID [--chat CHAT] --reason TEXT [--actor NAME]
       archiver hold clear --instance ID [--chat CHAT] --reason TEXT [--actor NAME]
       archiver hold list  [--instance ID] [--chat CHAT] [--json]

An S3 Object Lock legal hold on every object of an instance, or of one of its chats
(docs/legal-hold.md). While a legal hold is on, no one can delete or overwrite the object's
version, whatever its retention, until the hold is cleared.

  set    registers the hold under _holds/ in the bucket, puts the legal hold ON on every
         version of every object of the selection (earlier versions too), and the workers
         put it on every object they write into the selection from then on; after
         HOLD_REFRESH_SECONDS a catch-up pass holds what was written meanwhile. Setting a
         held selection again re-applies it.
  clear  lifts every active hold on exactly that selection: the legal hold goes OFF on its
         objects, except those another active hold still covers.
  list   the active holds: when, who, why, what.

Every set and clear is written to the audit log and entered in the custody log with who
(--actor, else $USER) and why (--reason). Needs a bucket with Object Lock: where the S3
server has none (s3rver), set and clear say so, change nothing and exit 2.

Options:
  --instance ID      the idInstance (required for set and clear)
  --chat CHAT        only this chatId
  --reason TEXT      why, for the audit record (required for set and clear)
  --actor NAME       who asks, for the audit record (default $USER)
  --json             list: JSON instead of a table
  -h, --help         this help
`;

const ACTIONS = ['set', 'clear', 'list'] as const;

/** The arguments, checked at the boundary with the same schemas the records are written with. */
const changeArgs = z.object({
  selection: holdSelectionSchema,
  reason: holdReasonSchema,
  actor: holdActorSchema,
});

export const holdCommand: Command = {
  name: 'hold',
  summary: 'set, clear or list S3 Object Lock legal holds on an instance or a chat',
  help: HELP,
  parse(argv) {
    const { values, positionals } = parseCommandArgs(
      argv,
      {
        ...HELP_OPTION,
        instance: { type: 'string' },
        chat: { type: 'string' },
        reason: { type: 'string' },
        actor: { type: 'string' },
        json: { type: 'boolean' },
      },
      true,
    );
    if (values.help) return 'help';
    const [action, ...extra] = positionals;
    if (!ACTIONS.includes(action as (typeof ACTIONS)[number]) || extra.length > 0) {
      throw new UsageError('expected one of: hold set, hold clear, hold list');
    }
    if (values.chat !== undefined && values.instance === undefined) {
      throw new UsageError('--chat needs --instance');
    }
    if (action === 'list') {
      if (values.reason !== undefined) throw new UsageError('hold list takes no --reason');
      const filter = values.instance === undefined ? undefined : selectionOf(values);
      return async (deps) => listHolds(deps, { filter, json: values.json === true });
    }
    if (values.json) throw new UsageError(`--json is for hold list`);
    if (values.instance === undefined) throw new UsageError('--instance is required');
    if (values.reason === undefined) throw new UsageError('--reason is required');
    const parsed = changeArgs.safeParse({
      selection: selectionOf(values),
      reason: values.reason,
      actor: defaultActor(values.actor),
    });
    if (!parsed.success) throw new UsageError(issues(parsed.error));
    const args = parsed.data;
    return async (deps) => (action === 'set' ? setHold(deps, args) : clearHold(deps, args));
  },
};

function selectionOf(values: { instance?: string; chat?: string }) {
  const parsed = holdSelectionSchema.safeParse({
    idInstance: values.instance,
    chatId: values.chat,
  });
  if (!parsed.success) throw new UsageError(issues(parsed.error));
  return parsed.data;
}

/** `--instance: an idInstance is digits`: zod's paths named as the flags they came from. */
function issues(error: z.ZodError): string {
  const flag: Record<string, string> = {
    idInstance: '--instance',
    chatId: '--chat',
    reason: '--reason',
    actor: '--actor',
  };
  return error.issues
    .map((i) => `${flag[String(i.path.at(-1))] ?? i.path.join('.')}: ${i.message}`)
    .join('; ');
}
