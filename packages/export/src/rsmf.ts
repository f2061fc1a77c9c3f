import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { dirname } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { TimelineEntry } from '@archiver/timeline';
import { lineFile, readLines } from './spill.js';
import { createZipWriter } from './zip.js';

/**
 * RSMF 2.0 (Relativity Short Message Format), one file per chat: an RFC 5322 message whose one
 * base64 attachment `rsmf.zip` holds `rsmf_manifest.json` and the attachments it names
 * (docs/export.md §3 gives the mapping). A message's edits, deletion and reactions are told
 * on the message itself (`edits`, `deleted`, `reactions`), as RSMF wants; the edit and
 * deletion records stay as files of the export beside it.
 */
export const RSMF_VERSION = '2.0.0';

export type RsmfEvent = {
  id: string;
  type: 'message' | 'unknown';
  body: string;
  participant: string;
  timestamp: string;
  conversation: string;
  direction?: 'incoming' | 'outgoing';
  deleted: boolean;
  importance: 'normal';
  parent?: string;
  attachments?: { id: string; display: string; size: number }[];
  edits?: { participant: string; timestamp: string; previous: string; new: string }[];
  reactions?: { value: string; count: number; participants: string[] }[];
  custom?: { name: string; value: string }[];
};

type Changes = {
  edits: NonNullable<RsmfEvent['edits']>;
  deleted?: string;
  reactions: Map<string, Set<string>>;
};

/** Collects a chat's RSMF events while the timeline passes; written out by `finish`. */
export function createRsmfCollector(opts: {
  conversation: string;
  platform: string;
  display: string;
  eventsFile: string;
  /** The attachments, one JSON line each ({id, key, size}), for writeRsmfFile. */
  attachmentsFile: string;
}) {
  const participants = new Map<string, string>();
  const changes = new Map<string, Changes>();
  const events = createWriteStream(opts.eventsFile);
  const attachments = lineFile(opts.attachmentsFile);
  let first: string | undefined;
  let last: string | undefined;
  let count = 0;

  function changesOf(id: string): Changes {
    let c = changes.get(id);
    if (!c) changes.set(id, (c = { edits: [], reactions: new Map() }));
    return c;
  }

  return {
    async add(e: TimelineEntry) {
      const participant = e.sender ?? (e.direction === 'event' ? opts.conversation : 'unknown');
      if (!participants.has(participant)) {
        participants.set(participant, e.senderName ?? participant);
      }
      const ref = e.refersTo;
      if (ref?.relation === 'edit') {
        changesOf(ref.idMessage).edits.push({
          participant,
          timestamp: e.time,
          previous: ref.text ?? '',
          new: e.text ?? '',
        });
        return;
      }
      if (ref?.relation === 'delete') {
        changesOf(ref.idMessage).deleted = e.time;
        return;
      }
      if (ref?.relation === 'reaction' && e.text) {
        const r = changesOf(ref.idMessage).reactions;
        if (!r.has(e.text)) r.set(e.text, new Set());
        r.get(e.text)!.add(participant);
        return;
      }
      const event: RsmfEvent = {
        id: e.idMessage ?? e.key,
        type: e.direction === 'event' ? 'unknown' : 'message',
        body:
          e.direction === 'event' ? `${e.type}${e.status ? `: ${e.status}` : ''}` : (e.text ?? ''),
        participant,
        timestamp: e.time,
        conversation: opts.conversation,
        ...(e.direction === 'event'
          ? {}
          : { direction: e.direction === 'in' ? ('incoming' as const) : ('outgoing' as const) }),
        deleted: false,
        importance: 'normal',
        ...(ref?.relation === 'reply' ? { parent: ref.idMessage } : {}),
        custom: [{ name: 'archiverKey', value: e.key }],
      };
      if (e.file?.status === 'archived' && e.file.key) {
        const name = e.file.key.split('/').pop() ?? 'file';
        const id = `${e.idMessage ?? count}_${name}`;
        event.attachments = [{ id, display: name, size: e.file.size ?? 0 }];
        await attachments.write(JSON.stringify({ id, key: e.file.key, size: e.file.size ?? 0 }));
      }
      first ??= e.time;
      last = e.time;
      count += 1;
      if (!events.write(`${JSON.stringify(event)}\n`)) await once(events, 'drain');
    },

    /** Writes `rsmf_manifest.json` to `manifestFile` (events streamed from the events file). */
    async finish(manifestFile: string) {
      events.end();
      await once(events, 'close');
      await attachments.close();
      const people = [...participants]
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([id, display]) => ({ id, display }));
      const head = {
        version: RSMF_VERSION,
        participants: people,
        conversations: [
          {
            id: opts.conversation,
            display: opts.display,
            platform: opts.platform,
            type: opts.conversation.endsWith('@g.us') ? 'channel' : 'direct',
            participants: people.map((p) => p.id),
          },
        ],
      };
      const headJson = JSON.stringify(head);
      const out = createWriteStream(manifestFile);
      out.write(`${headJson.slice(0, -1)},"events":[`);
      let n = 0;
      await pipeline(
        createReadStream(opts.eventsFile),
        lines((line) => {
          const ev = JSON.parse(line) as RsmfEvent;
          const c = changes.get(ev.id);
          if (c) {
            if (c.edits.length > 0) ev.edits = c.edits;
            if (c.deleted) {
              ev.deleted = true;
              ev.custom = [...(ev.custom ?? []), { name: 'deletedAt', value: c.deleted }];
            }
            if (c.reactions.size > 0) {
              ev.reactions = [...c.reactions].map(([value, who]) => ({
                value,
                count: who.size,
                participants: [...who].sort(),
              }));
            }
          }
          return `${n++ === 0 ? '' : ','}${JSON.stringify(ev)}`;
        }),
        out,
        { end: false },
      );
      out.end(']}');
      await once(out, 'close');
      return { begin: first, end: last, events: count, participants: people };
    },
  };
}

function lines(map: (line: string) => string): Transform {
  let rest = '';
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      const parts = (rest + chunk.toString('utf8')).split('\n');
      rest = parts.pop() ?? '';
      cb(null, parts.filter(Boolean).map(map).join(''));
    },
    flush(cb) {
      cb(null, rest ? map(rest) : '');
    },
  });
}

/**
 * The .rsmf file: headers, a short plain-text body, and `rsmf.zip` base64 in lines of 76.
 * Everything in it is derived from the chat, so the same chat gives the same bytes.
 */
export async function writeRsmfFile(opts: {
  file: string;
  zipFile: string;
  manifestFile: string;
  /** The collector's attachments file; `open` reads an attachment's bytes by its key. */
  attachmentsFile: string;
  open: (key: string) => Promise<Readable>;
  conversation: string;
  summary: {
    begin?: string;
    end?: string;
    events: number;
    participants: { id: string; display: string }[];
  };
}) {
  const zip = createZipWriter(createWriteStream(opts.zipFile), { tmpDir: dirname(opts.zipFile) });
  await zip.add('rsmf_manifest.json', createReadStream(opts.manifestFile), { compress: true });
  for await (const line of readLines(opts.attachmentsFile)) {
    const a = JSON.parse(line) as { id: string; key: string; size: number };
    await zip.add(a.id, await opts.open(a.key), { compress: false, size: a.size });
  }
  await zip.end();

  const boundary = `rsmf-${createHash('sha256').update(opts.conversation).digest('hex').slice(0, 24)}`;
  const s = opts.summary;
  const header = (name: string, value: string | number | undefined) =>
    value === undefined ? '' : `${name}: ${String(value).replace(/[\r\n]/g, ' ')}\r\n`;
  const from = s.participants[0]?.id ?? opts.conversation;
  const head =
    header('From', `<${from}>`) +
    header('To', `<${opts.conversation}>`) +
    header('Subject', `WhatsApp conversation ${opts.conversation}`) +
    header('Date', s.end ? new Date(s.end).toUTCString().replace('GMT', '+0000') : undefined) +
    header('MIME-Version', '1.0') +
    header('X-RSMF-Version', RSMF_VERSION) +
    header('X-RSMF-Generator', 'greenapi-archiver') +
    header('X-RSMF-BeginDate', s.begin) +
    header('X-RSMF-EndDate', s.end) +
    header('X-RSMF-EventCount', s.events) +
    header('X-RSMF-Participants', s.participants.map((p) => p.id).join(', ')) +
    header('Content-Type', `multipart/mixed; boundary="${boundary}"`) +
    '\r\n' +
    `--${boundary}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n` +
    `Conversation ${opts.conversation}: ${s.events} events from ${s.begin ?? '-'} to ${s.end ?? '-'}.\r\n` +
    `--${boundary}\r\nContent-Type: application/zip\r\nContent-Transfer-Encoding: base64\r\n` +
    `Content-Disposition: attachment; filename="rsmf.zip"\r\n\r\n`;
  const out = createWriteStream(opts.file);
  out.write(head);
  await pipeline(createReadStream(opts.zipFile), base64Lines(), out, { end: false });
  out.end(`\r\n--${boundary}--\r\n`);
  await once(out, 'close');
}

/** Base64 in lines of 76 characters (RFC 2045), 57 input bytes a line. */
function base64Lines(): Transform {
  let rest = Buffer.alloc(0);
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      const all = Buffer.concat([rest, chunk]);
      const whole = all.length - (all.length % 57);
      rest = all.subarray(whole);
      let out = '';
      for (let i = 0; i < whole; i += 57) {
        out += `${all.subarray(i, i + 57).toString('base64')}\r\n`;
      }
      cb(null, out);
    },
    flush(cb) {
      cb(null, rest.length > 0 ? `${rest.toString('base64')}\r\n` : '');
    },
  });
}
