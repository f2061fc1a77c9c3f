import type { TimelineEntry } from './timeline.js';

/** One line of the text transcript. */
export function formatEntry(e: TimelineEntry): string {
  const who =
    e.direction === 'event' ? '' : ` ${e.sender ?? '?'}${e.senderName ? ` (${e.senderName})` : ''}`;
  const head = `${e.time} ${e.direction.padEnd(5)}${who}`;
  const quote = (t: string | undefined) =>
    t === undefined ? '(text not in range)' : JSON.stringify(t);
  if (e.direction === 'event') {
    const about = e.idMessage ? ` ${e.idMessage}` : '';
    return `${head} [${e.type}${e.status ? ` ${e.status}` : ''}]${about}`;
  }
  const r = e.refersTo;
  switch (r?.relation) {
    case 'edit':
      return `${head} [edit ${e.idMessage} of ${r.idMessage}] ${quote(e.text)} (replaces ${quote(r.text)})`;
    case 'delete':
      return `${head} [deleted ${r.idMessage} by ${e.idMessage}] was ${quote(r.text)}`;
    case 'reaction':
      return `${head} [reaction ${e.idMessage} to ${r.idMessage}] ${e.text ?? '(removed)'} on ${quote(r.text)}`;
    case 'pollUpdate':
      return `${head} [votes ${e.idMessage} in ${r.idMessage}] ${e.text ?? ''} on ${quote(r.text)}`;
    default: {
      const reply = r ? ` (reply to ${r.idMessage} ${quote(r.text)})` : '';
      const file = e.file
        ? e.file.status === 'archived'
          ? ` file ${e.file.key} ${e.file.size} bytes sha256 ${e.file.sha256}`
          : ` file not archived: ${e.file.status}${e.file.reason ? ` (${e.file.reason})` : ''}`
        : '';
      return `${head} [${e.type} ${e.idMessage}]${reply}${e.text ? ` ${JSON.stringify(e.text)}` : ''}${file}`;
    }
  }
}
