/**
 * Texts of the messages a timeline has printed lately, for the edits, deletions, reactions
 * and votes that name one (docs/conversation.md §6). Bounded twice, so memory does not grow
 * with the chat: a message is forgotten `days` whole days after it was last named or
 * printed, and the oldest go first past `max` entries (a day busier than that).
 */

/** Days a message's text is kept after the day it was printed or last edited. */
export const REMEMBER_DAYS = 7;
/** Texts kept at most, whatever the days hold. */
export const MAX_REMEMBERED = 50_000;
/** A remembered text is cut here: enough to recognise it, bounded in memory. */
const REMEMBERED_CHARS = 500;

const DAY_MS = 86_400_000;

export type Recall = ReturnType<typeof createRecall>;

export function createRecall(opts: { days?: number; max?: number } = {}) {
  const days = opts.days ?? REMEMBER_DAYS;
  const max = opts.max ?? MAX_REMEMBERED;
  // Insertion order is the order last touched, so the oldest day sits at the front.
  const texts = new Map<string, { text: string | undefined; day: number }>();
  return {
    /** Whether the message is remembered (its text may still be undefined: a bare file). */
    has: (id: string) => texts.has(id),
    text: (id: string) => texts.get(id)?.text,
    /** Remembers `text` as the message's, as of `day` (YYYY-MM-DD, UTC). */
    set(id: string, text: string | undefined, day: string) {
      texts.delete(id);
      texts.set(id, { text: text === undefined ? undefined : cut(text), day: dayNumber(day) });
      if (texts.size > max) texts.delete(texts.keys().next().value as string);
    },
    /** A new day begins: forgets what was last touched more than `days` days before it. */
    startDay(day: string) {
      const oldest = dayNumber(day) - days;
      for (const [id, entry] of texts) {
        if (entry.day >= oldest) break;
        texts.delete(id);
      }
    },
    clear: () => texts.clear(),
    get size() {
      return texts.size;
    },
  };
}

/**
 * The text's first REMEMBERED_CHARS characters, copied: V8 keeps a longer slice as a view of
 * the whole string, which would hold every remembered message whole.
 */
function cut(text: string): string {
  return text.length <= REMEMBERED_CHARS ? text : [...text.slice(0, REMEMBERED_CHARS)].join('');
}

function dayNumber(day: string): number {
  return Math.floor(Date.parse(`${day}T00:00:00Z`) / DAY_MS);
}
