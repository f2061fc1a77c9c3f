import { markup, raw, type SafeHtml, type TimelineEntry } from '@archiver/timeline';
import type { CustodyStatus } from '@archiver/custody';
import type { ChatSummary } from './browse.js';

/** URLs of the review page; every segment encoded, so an id never changes the path. */
export const REVIEW_PATH = '/review';
const enc = encodeURIComponent;

export const urls = {
  home: () => `${REVIEW_PATH}/`,
  instance: (kind: string, id: string) => `${REVIEW_PATH}/${enc(kind)}/${enc(id)}/`,
  chat: (kind: string, id: string, chat: string) =>
    `${REVIEW_PATH}/${enc(kind)}/${enc(id)}/${enc(chat)}/`,
  day: (kind: string, id: string, chat: string, day: string) =>
    `${urls.chat(kind, id, chat)}${enc(day)}`,
  search: (kind: string, id: string, chat: string) => `${urls.chat(kind, id, chat)}search`,
  export: (kind: string, id: string, chat: string) => `${urls.chat(kind, id, chat)}export`,
  css: (name: string) => `${REVIEW_PATH}/assets/${name}`,
};

/** The page around a body: two stylesheets of our own, no script. */
export function page(title: string, crumbs: Array<[string, string?]>, body: SafeHtml): string {
  return pageHead(title, crumbs).value + body.value + pageTail().value;
}

export function pageHead(title: string, crumbs: Array<[string, string?]>): SafeHtml {
  const nav = crumbs.map(
    ([label, href], i) =>
      markup`${i ? ' / ' : ''}${href ? markup`<a href="${href}">${label}</a>` : markup`<bdi>${label}</bdi>`}`,
  );
  return markup`<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · archiver review</title>
<link rel="stylesheet" href="${urls.css('timeline.css')}">
<link rel="stylesheet" href="${urls.css('review.css')}">
</head><body class="review"><header><nav class="crumbs">${nav}</nav><h1><bdi>${title}</bdi></h1></header>
<main>
`;
}

export function pageTail(): SafeHtml {
  return markup`</main></body></html>
`;
}

export function instancesBody(list: Array<{ kind: string; idInstance: string }>): SafeHtml {
  if (list.length === 0) return markup`<p class="empty">Nothing archived yet.</p>`;
  return markup`<table class="list"><thead><tr><th>Instance</th><th>Kind</th></tr></thead><tbody>
${list.map((i) => markup`<tr><td><a href="${urls.instance(i.kind, i.idInstance)}">${i.idInstance}</a></td><td>${i.kind}</td></tr>\n`)}</tbody></table>`;
}

export function chatsBody(
  kind: string,
  id: string,
  chats: ChatSummary[],
  pageNo: number,
  more: boolean,
): SafeHtml {
  if (chats.length === 0) return markup`<p class="empty">No chats on this page.</p>`;
  const rows = chats.map(
    (c) =>
      markup`<tr><td><a href="${urls.chat(kind, id, c.chatId)}"><bdi>${c.chatId}</bdi></a></td><td class="num">${c.capped ? '≥ ' : ''}${c.objects}</td><td>${c.lastDay ? markup`<a href="${urls.day(kind, id, c.chatId, c.lastDay)}">${c.lastDay}</a>` : '—'}</td></tr>\n`,
  );
  const next = more
    ? markup`<p><a href="${`${urls.instance(kind, id)}?page=${pageNo + 1}`}">Next chats</a></p>`
    : '';
  return markup`<table class="list"><thead><tr><th>Chat</th><th>Objects</th><th>Last activity (UTC day)</th></tr></thead><tbody>
${rows}</tbody></table>${next}`;
}

export function chatBody(
  kind: string,
  id: string,
  chat: string,
  days: string[],
  exportEnabled: boolean,
): SafeHtml {
  const dayLinks = days.map(
    (d) => markup`<li><a href="${urls.day(kind, id, chat, d)}">${d}</a></li>`,
  );
  return markup`${searchForm(kind, id, chat)}
${exportEnabled ? exportForm(kind, id, chat) : markup`<p class="note">Export is not available on this receiver.</p>`}
<h2>Days with records</h2>
${days.length ? markup`<ul class="days">${dayLinks}</ul>` : markup`<p class="empty">No records.</p>`}`;
}

export function searchForm(
  kind: string,
  id: string,
  chat: string,
  q: { q?: string; since?: string; until?: string } = {},
): SafeHtml {
  return markup`<form class="search" method="get" action="${urls.search(kind, id, chat)}">
<label>Text <input type="search" name="q" required maxlength="200" value="${q.q ?? ''}"></label>
<label>From <input type="date" name="since" value="${q.since ?? ''}"></label>
<label>To <input type="date" name="until" value="${q.until ?? ''}"></label>
<button type="submit">Search</button></form>`;
}

function exportForm(kind: string, id: string, chat: string): SafeHtml {
  return markup`<form class="export" method="post" action="${urls.export(kind, id, chat)}">
<label>From <input type="date" name="since"></label>
<label>To <input type="date" name="until"></label>
<label>Reason <input type="text" name="reason" maxlength="2000"></label>
<button type="submit">Export (zip)</button></form>`;
}

const LABELS: Record<CustodyStatus['status'], string> = {
  sealed: 'sealed',
  waiting: 'waiting',
  breach: 'breach',
  unchecked: 'unchecked',
  off: 'no seals',
};

const BREACH_DETAIL: Record<'changed' | 'unsealed' | 'deleted', string> = {
  changed: 'size or SHA-256 differs from the entry in the custody log',
  unsealed: 'older than a seal interval and in no seal',
  deleted: 'sealed, but no object',
};

/** A record's (and its file's) custody status as a badge in the entry's header. */
export function custodyBadge(label: string, s: CustodyStatus | undefined): SafeHtml {
  if (!s) {
    return markup` <span class="custody breach" title="object not found in the bucket">${label}: missing</span>`;
  }
  const detail =
    s.status === 'sealed'
      ? `in seal ${s.seq}`
      : s.status === 'waiting'
        ? s.why === 'pending'
          ? 'entered, seal pending'
          : 'written within the last interval'
        : s.status === 'breach'
          ? `${BREACH_DETAIL[s.problem]}${s.seq ? ` (seal ${s.seq})` : ''}`
          : s.status === 'unchecked'
            ? 'beyond the seals this page reads; run archiver verify'
            : 'no seal in this bucket';
  return markup` <span class="${`custody ${s.status}`}" title="${detail}">${label}: ${LABELS[s.status]}${s.status === 'breach' ? ` ${s.problem}` : ''}</span>`;
}

export function deletedList(deleted: Array<{ key: string; seq: number }>): SafeHtml {
  if (deleted.length === 0) return markup``;
  return markup`<section class="breaches"><h2>Sealed but missing from the bucket</h2><ul>${deleted.map(
    (d) =>
      markup`<li><code>${d.key}</code> (seal ${d.seq}): <span class="custody breach">breach deleted</span></li>`,
  )}</ul></section>`;
}

export function searchHit(e: TimelineEntry, dayUrl: string, anchor: string): SafeHtml {
  return markup`<li class="hit"><a href="${`${dayUrl}#${anchor}`}"><time datetime="${e.time}">${e.time}</time></a> <span class="dir">${e.direction}</span> <bdi>${e.senderName ?? e.sender ?? ''}</bdi>: <bdi>${e.text ?? e.refersTo?.text ?? e.file?.fileName ?? ''}</bdi></li>\n`;
}

export function message(text: string): SafeHtml {
  return markup`<p class="message">${text}</p>`;
}

export const REVIEW_CSS = raw(`
body.review header, body.review main { max-width: 64rem; }
.crumbs { color: #5b6470; font-size: 0.9em; margin-top: 0.6rem; }
table.list { border-collapse: collapse; width: 100%; background: #fff; }
table.list th, table.list td { text-align: left; padding: 0.35rem 0.6rem; border-bottom: 1px solid #d8dde3; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
form { display: flex; flex-wrap: wrap; gap: 0.5rem; align-items: end; margin: 0.8rem 0;
  padding: 0.6rem; background: #fff; border: 1px solid #d8dde3; border-radius: 6px; }
form label { display: flex; flex-direction: column; font-size: 0.85em; color: #5b6470; }
ul.days { columns: 10rem; }
.custody { font-size: 0.75em; font-weight: 600; border-radius: 3px; padding: 0 0.3rem; }
.custody.sealed { background: #dcfae6; color: #067647; }
.custody.waiting, .custody.unchecked, .custody.off { background: #eef2f6; color: #364152; }
.custody.breach { background: #fee4e2; color: #b42318; }
.message, .note { color: #5b6470; }
`).value;

export function markupJoin(parts: Array<SafeHtml | undefined>): SafeHtml {
  return markup`${parts.filter((x): x is SafeHtml => x !== undefined)}`;
}

export function downloadLink(href: string): SafeHtml {
  return markup` <a class="download" href="${href}">download</a>`;
}
