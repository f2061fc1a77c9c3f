import { HELP_OPTION, oneOf, parseCommandArgs, required } from '../args.js';
import { CHAT_SELECTION_OPTIONS, chatSelection } from '../chat-selection.js';
import { s3Of } from '../deps.js';
import { chatTimeline, formatEntry } from '@archiver/timeline';
import { EXIT, type Command } from './command.js';

const HELP = `Usage: archiver transcript --instance ID --chat CHAT [--since YYYY-MM-DD] [--until YYYY-MM-DD] [--format text|json]

The chat's timeline, read from S3 alone: every message, file, edit, deletion, reaction, poll
vote, delivery status and call, in time order (UTC). Edits show the text they replaced,
deletions the text deleted, reactions and votes the message they are on. Memory stays flat
however long the chat: one day is read at a time (progress on stderr).

Options:
  --instance ID      the idInstance, required
  --chat CHAT        the chatId as Green-API sends it (71234567890@c.us, -10000000000000), required;
                     one starting with - is given as --chat=-10000000000000
  --since DATE       first UTC day (inclusive)
  --until DATE       last UTC day (inclusive)
  --format FORMAT    text (default) or json (one JSON object per line)
  -h, --help         this help
`;

export const transcriptCommand: Command = {
  name: 'transcript',
  summary: "a chat's timeline (messages, edits, deletions, files, statuses, calls) from S3",
  help: HELP,
  parse(argv) {
    const { values } = parseCommandArgs(argv, {
      ...HELP_OPTION,
      ...CHAT_SELECTION_OPTIONS,
      format: { type: 'string' },
    });
    if (values.help) return 'help';
    const selection = chatSelection(values);
    const chatId = required('chat', selection.chatId);
    const format = oneOf('format', values.format, ['text', 'json'] as const) ?? 'text';
    return async (deps) => {
      const { bucket, prefix } = s3Of(deps.config);
      let total = 0;
      const timeline = chatTimeline(deps.s3, {
        bucket,
        prefix,
        ...selection,
        chatId,
        onDay: (day, n) => {
          total += n;
          deps.err.write(`transcript: ${day}: ${n} records (${total} so far)\n`);
        },
      });
      for await (const entry of timeline) {
        const line = format === 'json' ? JSON.stringify(entry) : formatEntry(entry);
        if (!deps.out.write(`${line}\n`)) {
          await new Promise((resolve) => deps.out.once('drain', resolve));
        }
      }
      deps.err.write(`transcript: ${total} records\n`);
      return EXIT.ok;
    };
  },
};
