import type { TimelineEntry } from '@archiver/timeline';

/**
 * The offline HTML transcript of one chat, written a day at a time: no script, no external
 * asset (the style sheet is inline), files linked to their copies in the zip and images
 * shown inline from them. Every value is escaped.
 */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const CSS = `body{font:15px/1.4 system-ui,sans-serif;max-width:52rem;margin:1rem auto;padding:0 1rem}
ol{list-style:none;padding:0}li{border-bottom:1px solid #ddd;padding:.4rem 0}
.meta{color:#555;font-size:.85em}.out{background:#f3f8ff}.event{color:#666;font-size:.9em}
.edit .was{text-decoration:line-through;color:#888}.delete{color:#a00}img{max-width:100%;max-height:20rem;display:block}`;

export function transcriptHead(title: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src 'self'; style-src 'unsafe-inline'">
<style>${CSS}</style></head><body>
<h1>${escapeHtml(title)}</h1>
`;
}

export function transcriptDay(
  day: string,
  entries: TimelineEntry[],
  fileHref: (e: TimelineEntry) => string | undefined,
): string {
  const items = entries.map((e) => renderEntry(e, fileHref)).join('\n');
  return `<section id="d-${escapeHtml(day)}"><h2>${escapeHtml(day)} UTC</h2>\n<ol>\n${items}\n</ol></section>\n`;
}

export const TRANSCRIPT_END = '</body></html>\n';

const IMAGE = /\.(jpe?g|png|gif|webp)$/i;

function renderEntry(e: TimelineEntry, fileHref: (e: TimelineEntry) => string | undefined): string {
  const time = `<time datetime="${e.time}">${e.time.slice(11, 19)}</time>`;
  if (e.direction === 'event') {
    return `<li class="event" id="${id(e)}">${time} ${escapeHtml(e.type)}${e.status ? `: ${escapeHtml(e.status)}` : ''}</li>`;
  }
  const who = escapeHtml(e.senderName ?? e.sender ?? (e.direction === 'out' ? 'me' : 'unknown'));
  const ref = e.refersTo;
  let body = '';
  if (ref?.relation === 'edit') {
    body = `<div class="edit">edited <a href="#m-${escapeHtml(ref.idMessage)}">message</a>: <span class="was">${escapeHtml(ref.text ?? '(text not in range)')}</span> → <span class="now">${escapeHtml(e.text ?? '')}</span></div>`;
  } else if (ref?.relation === 'delete') {
    body = `<div class="delete">deleted <a href="#m-${escapeHtml(ref.idMessage)}">message</a>: <span class="was">${escapeHtml(ref.text ?? '(text not in range)')}</span></div>`;
  } else if (ref?.relation === 'reaction') {
    body = `<div class="reaction">reacted ${escapeHtml(e.text ?? '')} to <a href="#m-${escapeHtml(ref.idMessage)}">${escapeHtml(ref.text ?? 'message')}</a></div>`;
  } else {
    const quote =
      ref?.relation === 'reply' ? `<blockquote>${escapeHtml(ref.text ?? '')}</blockquote>` : '';
    body = `${quote}<div class="text">${escapeHtml(e.text ?? '')}</div>`;
  }
  let file = '';
  if (e.file) {
    const href = fileHref(e);
    const name = escapeHtml(e.file.key?.split('/').pop() ?? e.type);
    if (href && e.file.status === 'archived') {
      const link = `<a href="${escapeHtml(href)}">${name}</a> <span class="meta">${e.file.size ?? 0} bytes, SHA-256 ${escapeHtml(e.file.sha256 ?? '')}</span>`;
      file = IMAGE.test(href)
        ? `<div class="file"><img src="${escapeHtml(href)}" alt="${name}">${link}</div>`
        : `<div class="file">${link}</div>`;
    } else {
      file = `<div class="file">file ${escapeHtml(e.file.status)}${e.file.reason ? ` (${escapeHtml(e.file.reason)})` : ''}</div>`;
    }
  }
  return `<li class="${e.direction}" id="${id(e)}"><div class="meta">${time} ${who} · ${escapeHtml(e.type)}</div>${body}${file}</li>`;
}

function id(e: TimelineEntry): string {
  return escapeHtml(e.idMessage && e.direction !== 'event' ? `m-${e.idMessage}` : `k-${e.key}`);
}
