import { markup, raw, safeUrl, type SafeHtml } from './escape.js';
import { TIMELINE_CSS } from './html-css.js';
import type { TimelineEntry } from './timeline.js';

export { SafeHtml, escapeHtml, markup, raw, safeUrl } from './escape.js';
export { TIMELINE_CSS } from './html-css.js';

/**
 * A timeline as server-rendered HTML, the one rendering the review page and the export's
 * offline transcript share. Everything is escaped (escape.ts); no script, no external asset,
 * no `style` attribute (a CSP of `default-src 'self'` would block it), so the same markup
 * reads in a locked-down browser and in a file opened from a zip.
 *
 * Entries are rendered a day at a time: within a day, reactions and poll votes are attached
 * to the message they are on, and an edited or deleted message is marked with a link to its
 * edit or deletion, which stays in place with the text it replaced or removed. A relation
 * whose message lies on another day is rendered in place, with the text the timeline
 * remembered for it (docs/conversation.md §6).
 */
export type TimelineHtmlOptions = {
  /**
   * Where an entry's archived file is read: a path inside the export's zip or a URL of the
   * review page. Undefined: the file is named but not linked. Images are shown inline from it.
   */
  fileHref?: (entry: TimelineEntry) => string | undefined;
  /** Extra markup at the end of an entry's header (the review page's custody status). */
  annotate?: (entry: TimelineEntry) => SafeHtml | undefined;
};

const IMAGE_EXTENSIONS = /\.(jpe?g|png|gif|webp)$/i;

/** The offline document's own policy (an export's transcript.html). */
const OFFLINE_CSP = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'";

/** One day's section: `day` is YYYY-MM-DD, `entries` that day's, in time order. */
export function renderDay(
  day: string,
  entries: TimelineEntry[],
  opts: TimelineHtmlOptions = {},
): SafeHtml {
  const byId = new Map<string, TimelineEntry>();
  for (const e of entries) if (e.direction !== 'event' && e.idMessage) byId.set(e.idMessage, e);
  const attached = new Map<TimelineEntry, TimelineEntry[]>();
  const marks = new Map<TimelineEntry, TimelineEntry[]>();
  const shown: TimelineEntry[] = [];
  for (const e of entries) {
    const r = e.refersTo;
    const target = r ? byId.get(r.idMessage) : undefined;
    if (target && target !== e && (r?.relation === 'reaction' || r?.relation === 'pollUpdate')) {
      push(attached, target, e);
      continue;
    }
    if (target && target !== e && (r?.relation === 'edit' || r?.relation === 'delete')) {
      push(marks, target, e);
    }
    shown.push(e);
  }
  const items = shown.map((e) =>
    renderEntry(e, opts, { attached: attached.get(e) ?? [], marks: marks.get(e) ?? [] }),
  );
  return markup`<section class="day" id="${`d-${day}`}"><h2><time datetime="${day}">${day}</time> <span class="tz">UTC</span></h2>
<ol class="timeline">
${items}</ol></section>
`;
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V) {
  const list = map.get(key) ?? [];
  list.push(value);
  map.set(key, list);
}

type Related = { attached: TimelineEntry[]; marks: TimelineEntry[] };

/** One entry as a list item; `related` comes from its day (renderDay). */
export function renderEntry(
  e: TimelineEntry,
  opts: TimelineHtmlOptions = {},
  related: Related = { attached: [], marks: [] },
): SafeHtml {
  const relation = e.refersTo?.relation;
  const classes = ['entry', e.direction, relation ?? '', e.file ? 'has-file' : '']
    .filter(Boolean)
    .join(' ');
  const anchor = e.idMessage && e.direction !== 'event' ? anchorId(e.idMessage) : undefined;
  return markup`<li class="${classes}"${anchor ? markup` id="${anchor}"` : ''} data-key="${e.key}">
<div class="head">${timeOf(e)} ${direction(e)}${sender(e)} <span class="type">${e.type}</span>${markList(related.marks)}${opts.annotate?.(e)}</div>
${body(e, opts)}${attachedList(related.attached)}</li>
`;
}

function body(e: TimelineEntry, opts: TimelineHtmlOptions): SafeHtml {
  if (e.direction === 'event') return eventBody(e);
  const r = e.refersTo;
  switch (r?.relation) {
    case 'edit':
      return markup`<div class="edit">${target('Edit of', r.idMessage)}
<div class="was">Original: ${quote(r.text, 'del')}</div>
<div class="now">Edited to: ${quote(e.text, 'ins')}</div></div>
`;
    case 'delete':
      return markup`<div class="delete"><span class="label">Deleted</span> ${target('message', r.idMessage)}
<div class="was">Deleted text: ${quote(r.text, 'del')}</div></div>
`;
    case 'reaction':
      return markup`<div class="reaction">${reactionText(e)} on ${target('message', r.idMessage)} ${quote(r.text, 'q')}</div>
`;
    case 'pollUpdate':
      return markup`<div class="poll-update">Votes: <bdi>${e.text ?? ''}</bdi> in ${target('poll', r.idMessage)} ${quote(r.text, 'q')}</div>
`;
    case 'reply':
      return markup`<blockquote class="reply">${target('Reply to', r.idMessage)} ${quote(r.text, 'q')}</blockquote>
${text(e)}${file(e, opts)}`;
    default:
      return markup`${text(e)}${file(e, opts)}`;
  }
}

function text(e: TimelineEntry): SafeHtml {
  return e.text === undefined
    ? markup``
    : markup`<p class="text"><bdi>${e.text}</bdi></p>
`;
}

function eventBody(e: TimelineEntry): SafeHtml {
  const about = e.idMessage ? markup` about ${target('message', e.idMessage)}` : '';
  const status = e.status ? markup`<span class="status">${e.status}</span>` : '';
  return markup`<div class="event-body">${status}${about}</div>
`;
}

function file(e: TimelineEntry, opts: TimelineHtmlOptions): SafeHtml {
  const f = e.file;
  if (!f) return markup``;
  const name = f.fileName ?? f.key?.split('/').at(-1) ?? 'file';
  if (f.status !== 'archived') {
    const why = f.reason ? ` (${f.reason})` : '';
    return markup`<div class="file missing">File <bdi>${name}</bdi> not archived: ${f.status}${why}</div>
`;
  }
  const href = safeUrl(opts.fileHref?.(e));
  const size = f.size !== undefined ? `${f.size} bytes` : '';
  const type = f.contentType ? `, ${f.contentType}` : '';
  const facts = markup`<span class="facts">${size}${type}</span> <code class="sha256" title="SHA-256">${f.sha256 ?? ''}</code>`;
  const link = href ? markup`<a href="${href}">${name}</a>` : markup`<bdi>${name}</bdi>`;
  const image =
    href && isImage(e)
      ? markup`<div class="image"><a href="${href}"><img src="${href}" alt="${name}"></a></div>`
      : '';
  return markup`<div class="file">File: ${link} ${facts}${image}</div>
`;
}

function isImage(e: TimelineEntry): boolean {
  const type = e.file?.contentType;
  if (type) return /^image\/(jpeg|png|gif|webp)$/i.test(type.split(';')[0]!.trim());
  return e.type === 'imageMessage' || IMAGE_EXTENSIONS.test(e.file?.key ?? '');
}

/** Reactions and votes shown under the message they are on. */
function attachedList(list: TimelineEntry[]): SafeHtml {
  if (list.length === 0) return markup``;
  const items = list.map((a) => {
    const what =
      a.refersTo?.relation === 'reaction'
        ? markup`<span class="reaction">${reactionText(a)}</span>`
        : markup`<span class="poll-update">Votes: <bdi>${a.text ?? ''}</bdi></span>`;
    const relation = a.refersTo?.relation ?? '';
    return markup`<li class="${relation}" data-key="${a.key}">${what}${sender(a)} ${timeOf(a)}</li>`;
  });
  return markup`<ul class="attached">${items}</ul>
`;
}

/** "edited HH:MM:SS" / "deleted HH:MM:SS" on the original, linking to the change. */
function markList(list: TimelineEntry[]): SafeHtml {
  const marks = list.map((m) => {
    const word = m.refersTo?.relation === 'edit' ? 'edited' : 'deleted';
    const label = `${word} ${m.time.slice(11, 19)}`;
    const content = m.idMessage
      ? markup`<a href="${`#${anchorId(m.idMessage)}`}">${label}</a>`
      : label;
    return markup` <span class="${`mark ${word}`}">${content}</span>`;
  });
  return markup`${marks}`;
}

function reactionText(e: TimelineEntry): SafeHtml {
  return e.text === undefined ? markup`(reaction removed)` : markup`Reaction <bdi>${e.text}</bdi>`;
}

function quote(value: string | undefined, tag: 'del' | 'ins' | 'q'): SafeHtml {
  if (value === undefined) return markup`<span class="unknown">(text not in range)</span>`;
  return markup`${raw(`<${tag}>`)}<bdi>${value}</bdi>${raw(`</${tag}>`)}`;
}

function target(label: string, idMessage: string): SafeHtml {
  const href = `#${anchorId(idMessage)}`;
  return markup`${label} <a class="ref" href="${href}"><code>${idMessage}</code></a>`;
}

function timeOf(e: TimelineEntry): SafeHtml {
  return markup`<time datetime="${e.time}" title="${e.time}">${e.time.slice(11, 19)}</time>`;
}

function direction(e: TimelineEntry): SafeHtml {
  return markup`<span class="${`dir ${e.direction}`}">${e.direction}</span>`;
}

function sender(e: TimelineEntry): SafeHtml {
  if (e.direction === 'event' || (!e.sender && !e.senderName)) return markup``;
  const id = e.sender ? markup` <code>${e.sender}</code>` : '';
  return markup` <span class="sender"><bdi>${e.senderName ?? ''}</bdi>${id}</span>`;
}

/** An element id for a message: percent-encoded, so any id is a valid and matching fragment. */
export function anchorId(idMessage: string): string {
  return `m-${encodeURIComponent(idMessage)}`;
}

export type TimelineDocumentOptions = TimelineHtmlOptions & {
  title: string;
  /** Lines under the title (instance, chat, range). */
  subtitle?: string[];
  /** `inline`: the CSS in a `<style>` (offline files); otherwise the stylesheet's URL. */
  css: 'inline' | { href: string };
};

/**
 * A whole HTML document, streamed a day at a time: memory holds one day's entries, as
 * chatTimeline does. Write each chunk as it comes.
 */
export async function* timelineDocument(
  entries: AsyncIterable<TimelineEntry> | Iterable<TimelineEntry>,
  opts: TimelineDocumentOptions,
): AsyncGenerator<string> {
  yield documentHead(opts).value;
  let count = 0;
  for await (const { day, entries: list } of byDay(entries)) {
    count += list.length;
    yield renderDay(day, list, opts).value;
  }
  if (count === 0) yield markup`<p class="empty">No records in this range.</p>\n`.value;
  yield documentTail().value;
}

/** Groups a time-ordered stream into days (UTC), holding one day at a time. */
export async function* byDay(
  entries: AsyncIterable<TimelineEntry> | Iterable<TimelineEntry>,
): AsyncGenerator<{ day: string; entries: TimelineEntry[] }> {
  let current: { day: string; entries: TimelineEntry[] } | undefined;
  for await (const e of entries) {
    const day = e.time.slice(0, 10);
    if (current && current.day !== day) {
      yield current;
      current = undefined;
    }
    current ??= { day, entries: [] };
    current.entries.push(e);
  }
  if (current) yield current;
}

/** `<!doctype html>` to `<main>`: the page's title, subtitle lines and stylesheet. */
export function documentHead(
  opts: Pick<TimelineDocumentOptions, 'title' | 'subtitle' | 'css'>,
): SafeHtml {
  // A file opened from a zip has no server to send a CSP: the page carries its own, which
  // lets it load nothing from the network, only its inline style and the images beside it.
  const css =
    opts.css === 'inline'
      ? markup`<meta http-equiv="Content-Security-Policy" content="${OFFLINE_CSP}">
<style>${raw(TIMELINE_CSS)}</style>`
      : markup`<link rel="stylesheet" href="${safeUrl(opts.css.href) ?? ''}">`;
  const subtitle = (opts.subtitle ?? []).map(
    (s) => markup`<p class="subtitle"><bdi>${s}</bdi></p>`,
  );
  return markup`<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${opts.title}</title>
${css}
</head><body class="transcript"><header><h1><bdi>${opts.title}</bdi></h1>${subtitle}</header>
<main>
`;
}

export function documentTail(): SafeHtml {
  return markup`</main></body></html>
`;
}
