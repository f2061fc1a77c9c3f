import { readJson, type Reply } from './http-util.js';
import type { AddFileOptions, FileMessageType, JournalItem } from './types.js';

export type Journal = ReturnType<typeof createJournal>;

/** Per-instance message journal behind lastIncoming/OutgoingMessages and getChatHistory. */
export function createJournal(nowMs: () => number) {
  const items = new Map<string, JournalItem[]>();
  const newestFirst = (list: JournalItem[]) => [...list].sort((a, b) => b.timestamp - a.timestamp);

  return {
    add(idInstance: string, item: JournalItem) {
      const list = items.get(idInstance) ?? [];
      list.push(item);
      items.set(idInstance, list);
    },
    /**
     * Items of one direction from the last `minutes`, newest first. Green-API does not state
     * the order of these two journals (getChatHistory is documented newest first).
     */
    last(idInstance: string, type: JournalItem['type'], minutes: number): JournalItem[] {
      const since = nowMs() / 1000 - minutes * 60;
      return newestFirst(
        (items.get(idInstance) ?? []).filter((i) => i.type === type && i.timestamp >= since),
      );
    },
    history(idInstance: string, chatId: string, count: number): JournalItem[] {
      return newestFirst((items.get(idInstance) ?? []).filter((i) => i.chatId === chatId)).slice(
        0,
        count,
      );
    },
  };
}

export function typeMessageFor(mimeType: string): FileMessageType {
  if (mimeType.startsWith('image/')) return 'imageMessage';
  if (mimeType.startsWith('video/')) return 'videoMessage';
  if (mimeType.startsWith('audio/')) return 'audioMessage';
  return 'documentMessage';
}

/** The journal item addFile records when given a `direction`. */
export function journalItemForFile(
  opts: AddFileOptions & { direction: 'incoming' | 'outgoing' },
  file: { downloadUrl: string; fileName: string; mimeType: string },
  nowMs: number,
): JournalItem {
  const common = {
    idMessage: opts.idMessage,
    timestamp: opts.timestamp ?? Math.floor(nowMs / 1000),
    typeMessage: opts.typeMessage ?? typeMessageFor(file.mimeType),
    chatId: opts.chatId,
    downloadUrl: file.downloadUrl,
    caption: opts.caption ?? '',
    fileName: file.fileName,
    jpegThumbnail: '',
    mimeType: file.mimeType,
    isForwarded: false,
    forwardingScore: 0,
  };
  return opts.direction === 'incoming'
    ? {
        ...common,
        type: 'incoming',
        senderId: opts.senderId ?? opts.chatId,
        senderName: opts.senderName ?? 'Green API',
      }
    : { ...common, type: 'outgoing', statusMessage: 'sent', sendByApi: opts.sendByApi ?? false };
}

const DEFAULT_MINUTES = 1440;

export function handleLastMessages(
  reply: Reply,
  journal: Journal,
  idInstance: string,
  type: JournalItem['type'],
) {
  const raw = new URL(reply.req.url ?? '/', 'http://fake').searchParams.get('minutes');
  const minutes = raw === null ? DEFAULT_MINUTES : Number(raw);
  if (!Number.isFinite(minutes) || minutes < 0) {
    return reply.text(400, "Validation failed. Details: 'minutes' must be a number");
  }
  reply.json(200, journal.last(idInstance, type, minutes));
}

export async function handleChatHistory(reply: Reply, journal: Journal, idInstance: string) {
  const body = await readJson(reply.req);
  if (!body.ok) return reply.text(400, body.message);
  const value = (body.value ?? {}) as { chatId?: unknown; count?: unknown };
  if (typeof value.chatId !== 'string') {
    return reply.text(400, "Validation failed. Details: 'chatId' is required");
  }
  const count = value.count === undefined ? 100 : Number(value.count);
  if (!Number.isInteger(count) || count < 1) {
    return reply.text(400, "Validation failed. Details: 'count' must be a positive integer");
  }
  reply.json(200, journal.history(idInstance, value.chatId, count));
}
