import { describe, expect, it } from 'vitest';
import { anchorId, byDay, escapeHtml, markup, renderDay, timelineDocument } from './html.js';
import type { TimelineEntry } from './timeline.js';

const DAY = '2026-11-30';
let n = 0;

function entry(over: Partial<TimelineEntry> & { time: string }): TimelineEntry {
  n += 1;
  return {
    timestamp: Date.parse(over.time) / 1000,
    direction: 'in',
    kind: 'whatsapp',
    key: `whatsapp/1101/chat/${over.time.slice(0, 10).replaceAll('-', '/')}/M${n}/message.json`,
    type: 'textMessage',
    sender: '79001234567@c.us',
    senderName: 'Alice',
    ...over,
  };
}

/** The markup of each top-level entry, by its record key (entries never nest). */
function entriesOf(markup: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const chunk of markup.split('<li class="entry').slice(1)) {
    const key = /data-key="([^"]*)"/.exec(chunk)?.[1];
    if (key) out.set(key, chunk);
  }
  return out;
}

describe('escaping', () => {
  it('escapes the five HTML specials and the backtick', () => {
    expect(escapeHtml(`<a href="x" onclick='y'>&\``)).toBe(
      '&lt;a href=&quot;x&quot; onclick=&#39;y&#39;&gt;&amp;&#96;',
    );
  });

  it('never lets a text, sender, id, type or key become markup', () => {
    const evil = '"><script>alert(1)</script><img src=x onerror=alert(2)>';
    const e = entry({
      time: `${DAY}T10:00:00Z`,
      text: evil,
      sender: evil,
      senderName: evil,
      idMessage: evil,
      type: evil,
      key: evil,
      file: { status: 'archived', key: evil, fileName: evil, contentType: evil, sha256: evil },
    });
    const markup = renderDay(DAY, [e], {
      fileHref: () => `/file?k=${encodeURIComponent(evil)}`,
    }).value;
    expect(markup).not.toContain('<script');
    expect(markup).not.toContain('<img src=x');
    expect(markup).not.toMatch(/"><script/);
    expect(markup).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
  });

  it('refuses href targets that are not relative or http(s)', () => {
    const e = entry({
      time: `${DAY}T10:00:00Z`,
      type: 'imageMessage',
      file: { status: 'archived', key: 'k/a.jpg', sha256: 'ab', size: 3 },
    });
    for (const bad of ['javascript:alert(1)', 'data:text/html,x', ' JavaScript:alert(1)']) {
      const markup = renderDay(DAY, [e], { fileHref: () => bad }).value;
      expect(markup).not.toContain('href="javascript');
      expect(markup).not.toContain('data:text');
      expect(markup).not.toContain('<img');
    }
  });

  it('interpolates arrays and drops nullish parts in the template', () => {
    expect(markup`<p>${['<a>', markup`<b></b>`, undefined, null, false, 0]}</p>`.value).toBe(
      '<p>&lt;a&gt;<b></b>0</p>',
    );
  });

  it('has no style attribute and no script anywhere (the review CSP forbids both)', async () => {
    let doc = '';
    for await (const chunk of timelineDocument([entry({ time: `${DAY}T10:00:00Z`, text: 'x' })], {
      title: 'T',
      css: { href: '/review/assets/timeline.css' },
    })) {
      doc += chunk;
    }
    expect(doc).not.toMatch(/\sstyle=/);
    expect(doc).not.toMatch(/<script/i);
    expect(doc).toContain('<link rel="stylesheet" href="/review/assets/timeline.css">');
  });
});

describe('relations', () => {
  const original = entry({ time: `${DAY}T09:00:00Z`, idMessage: 'ORIG', text: 'meet at 5' });

  it('shows an edit against the original, and marks the original as edited', () => {
    const edit = entry({
      time: `${DAY}T09:05:00Z`,
      idMessage: 'EDIT1',
      type: 'editedMessage',
      text: 'meet at 6',
      refersTo: { idMessage: 'ORIG', relation: 'edit', text: 'meet at 5' },
    });
    const items = entriesOf(renderDay(DAY, [original, edit]).value);
    const e = items.get(edit.key)!;
    expect(e).toContain('<del><bdi>meet at 5</bdi></del>');
    expect(e).toContain('<ins><bdi>meet at 6</bdi></ins>');
    expect(e).toContain(`href="#${anchorId('ORIG')}"`);
    const o = items.get(original.key)!;
    expect(o).toContain(`id="${anchorId('ORIG')}"`);
    expect(o).toMatch(/class="mark edited"><a href="#m-EDIT1">edited 09:05:00<\/a>/);
  });

  it('marks a deletion and still shows the deleted text', () => {
    const del = entry({
      time: `${DAY}T09:10:00Z`,
      idMessage: 'DEL1',
      type: 'deletedMessage',
      refersTo: { idMessage: 'ORIG', relation: 'delete', text: 'meet at 5' },
    });
    const items = entriesOf(renderDay(DAY, [original, del]).value);
    const d = items.get(del.key)!;
    expect(d.startsWith(' in delete"')).toBe(true);
    expect(d).toContain('Deleted text: <del><bdi>meet at 5</bdi></del>');
    expect(items.get(original.key)).toMatch(/class="mark deleted">.*deleted 09:10:00/);
    // The original itself keeps its text.
    expect(items.get(original.key)).toContain('<p class="text"><bdi>meet at 5</bdi></p>');
  });

  it('says so when the text edited or deleted is not in range', () => {
    const del = entry({
      time: `${DAY}T09:10:00Z`,
      idMessage: 'DEL2',
      type: 'deletedMessage',
      refersTo: { idMessage: 'GONE', relation: 'delete' },
    });
    expect(renderDay(DAY, [del]).value).toContain('(text not in range)');
  });

  it('attaches reactions and poll votes to their message on the same day', () => {
    const poll = entry({ time: `${DAY}T09:01:00Z`, idMessage: 'POLL', text: 'Lunch? [A | B]' });
    const reaction = entry({
      time: `${DAY}T09:02:00Z`,
      idMessage: 'R1',
      type: 'reactionMessage',
      text: '👍',
      senderName: 'Bob',
      refersTo: { idMessage: 'ORIG', relation: 'reaction', text: 'meet at 5' },
    });
    const vote = entry({
      time: `${DAY}T09:03:00Z`,
      idMessage: 'V1',
      type: 'pollUpdateMessage',
      text: 'A: 1, B: 0',
      refersTo: { idMessage: 'POLL', relation: 'pollUpdate', text: 'Lunch? [A | B]' },
    });
    const items = entriesOf(renderDay(DAY, [original, poll, reaction, vote]).value);
    expect(items.has(reaction.key)).toBe(false);
    expect(items.has(vote.key)).toBe(false);
    const o = items.get(original.key)!;
    expect(o).toMatch(/<ul class="attached"><li class="reaction" data-key="[^"]+">.*👍.*Bob/);
    expect(items.get(poll.key)).toMatch(/<ul class="attached">.*Votes: <bdi>A: 1, B: 0<\/bdi>/);
  });

  it('renders a reaction on a message of another day in place, with its text', () => {
    const reaction = entry({
      time: `${DAY}T09:02:00Z`,
      idMessage: 'R2',
      type: 'reactionMessage',
      refersTo: { idMessage: 'EARLIER', relation: 'reaction', text: 'old news' },
    });
    const items = entriesOf(renderDay(DAY, [reaction]).value);
    expect(items.get(reaction.key)).toContain('(reaction removed) on message');
    expect(items.get(reaction.key)).toContain('<q><bdi>old news</bdi></q>');
  });

  it('shows a reply with the message it quotes', () => {
    const reply = entry({
      time: `${DAY}T09:04:00Z`,
      idMessage: 'Q1',
      type: 'quotedMessage',
      text: 'ok',
      refersTo: { idMessage: 'ORIG', relation: 'reply', text: 'meet at 5' },
    });
    const r = entriesOf(renderDay(DAY, [original, reply]).value).get(reply.key)!;
    expect(r).toMatch(/<blockquote class="reply">Reply to <a class="ref" href="#m-ORIG">/);
    expect(r).toContain('<p class="text"><bdi>ok</bdi></p>');
  });
});

describe('files, statuses and calls', () => {
  it('links a file through fileHref and shows an image inline from the same URL', () => {
    const img = entry({
      time: `${DAY}T11:00:00Z`,
      idMessage: 'IMG',
      type: 'imageMessage',
      file: {
        status: 'archived',
        key: 'whatsapp/1101/c/2026/11/30/IMG/photo.jpg',
        fileName: 'photo.jpg',
        contentType: 'image/jpeg',
        size: 1234,
        sha256: 'a'.repeat(64),
      },
    });
    const doc = entry({
      time: `${DAY}T11:01:00Z`,
      idMessage: 'DOC',
      type: 'documentMessage',
      file: { status: 'archived', key: 'k/DOC/report.pdf', contentType: 'application/pdf' },
    });
    const seen: string[] = [];
    const markup = renderDay(DAY, [img, doc], {
      fileHref: (e) => {
        seen.push(e.key);
        return `files/${e.idMessage}`;
      },
    }).value;
    const items = entriesOf(markup);
    expect(items.get(img.key)).toContain('<a href="files/IMG">photo.jpg</a>');
    expect(items.get(img.key)).toContain('<img src="files/IMG" alt="photo.jpg">');
    expect(items.get(img.key)).toContain(`1234 bytes, image/jpeg`);
    expect(items.get(img.key)).toContain('a'.repeat(64));
    expect(items.get(doc.key)).toContain('<a href="files/DOC">report.pdf</a>');
    expect(items.get(doc.key)).not.toContain('<img');
    expect(seen).toEqual([img.key, doc.key]);
  });

  it('says why a file was not archived, and links nothing', () => {
    const e = entry({
      time: `${DAY}T11:00:00Z`,
      idMessage: 'X',
      type: 'documentMessage',
      file: { status: 'expired', reason: 'deadline_passed', fileName: 'a.pdf' },
    });
    const markup = renderDay(DAY, [e], { fileHref: () => 'never' }).value;
    expect(markup).toContain('not archived: expired (deadline_passed)');
    expect(markup).not.toContain('href="never"');
  });

  it('keeps statuses and calls in place, in time order, naming their message', () => {
    const m = entry({ time: `${DAY}T12:00:00Z`, idMessage: 'OUT1', direction: 'out', text: 'hi' });
    const status = entry({
      time: `${DAY}T12:00:05Z`,
      direction: 'event',
      type: 'outgoingMessageStatus',
      idMessage: 'OUT1',
      status: 'read',
    });
    const call = entry({
      time: `${DAY}T12:01:00Z`,
      direction: 'event',
      type: 'incomingCall',
      idMessage: 'CALL1',
      status: 'offer',
    });
    const markup = renderDay(DAY, [m, status, call]).value;
    const keys = [...entriesOf(markup).keys()];
    expect(keys).toEqual([m.key, status.key, call.key]);
    const s = entriesOf(markup).get(status.key)!;
    expect(s).toContain('<span class="status">read</span> about message');
    expect(s).not.toContain('id="m-OUT1"');
    expect(markup).toContain('<span class="dir event">event</span>');
    expect(markup).toContain(
      '<time datetime="2026-11-30T12:01:00Z" title="2026-11-30T12:01:00Z">12:01:00</time>',
    );
  });

  it('adds the caller’s annotation after the header', () => {
    const e = entry({ time: `${DAY}T12:00:00Z`, idMessage: 'A', text: 'x' });
    const out = renderDay(DAY, [e], {
      annotate: () => markup`<span class="custody">sealed</span>`,
    }).value;
    expect(out).toMatch(/<div class="head">.*<span class="custody">sealed<\/span><\/div>/);
  });
});

describe('documents', () => {
  it('groups a stream into days and writes one section per day, CSS inline', async () => {
    const entries = [
      entry({ time: '2026-11-29T23:59:59Z', idMessage: 'a', text: 'late' }),
      entry({ time: '2026-11-30T00:00:00Z', idMessage: 'b', text: 'early' }),
      entry({ time: '2026-11-30T00:00:01Z', idMessage: 'c', text: 'early too' }),
    ];
    const days: Array<[string, number]> = [];
    for await (const d of byDay(entries)) days.push([d.day, d.entries.length]);
    expect(days).toEqual([
      ['2026-11-29', 1],
      ['2026-11-30', 2],
    ]);
    const chunks: string[] = [];
    for await (const c of timelineDocument(entries, { title: 'Chat <x>', css: 'inline' })) {
      chunks.push(c);
    }
    const doc = chunks.join('');
    expect(chunks.length).toBe(4);
    expect(doc).toMatch(/^<!doctype html>/);
    expect(doc).toContain('<title>Chat &lt;x&gt;</title>');
    expect(doc).toContain('<style>');
    // Opened from a zip there is no server to send a CSP: the document carries its own.
    expect(doc).toContain(
      '<meta http-equiv="Content-Security-Policy" content="default-src &#39;none&#39;; img-src &#39;self&#39;;',
    );
    expect(doc).toContain('id="d-2026-11-29"');
    expect(doc).toContain('id="d-2026-11-30"');
    expect(doc.trimEnd()).toMatch(/<\/html>$/);
  });

  it('says so when the range holds nothing', async () => {
    let doc = '';
    for await (const c of timelineDocument([], { title: 'T', css: 'inline' })) doc += c;
    expect(doc).toContain('No records in this range.');
  });
});
