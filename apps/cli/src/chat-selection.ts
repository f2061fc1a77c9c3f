import { instanceId, required } from './args.js';
import { dayRange, parseDay, type DayRange } from './dates.js';

/** The options of the commands that read one instance's chats over a range of UTC days. */
export const CHAT_SELECTION_OPTIONS = {
  instance: { type: 'string' },
  chat: { type: 'string' },
  since: { type: 'string' },
  until: { type: 'string' },
} as const;

/** Which instance, which chat (all when absent), which days (open ends when absent). */
export type ChatSelection = { idInstance: string; chatId?: string } & DayRange;

/**
 * `--instance` (required, an idInstance), `--chat`, `--since` and `--until` (real UTC days,
 * in order) as `export` and `transcript` take them; a mistake is a UsageError.
 */
export function chatSelection(values: {
  instance?: string;
  chat?: string;
  since?: string;
  until?: string;
}): ChatSelection {
  const idInstance = required('instance', instanceId('instance', values.instance));
  const range = dayRange(parseDay('since', values.since), parseDay('until', values.until));
  return { idInstance, chatId: values.chat, ...range };
}
