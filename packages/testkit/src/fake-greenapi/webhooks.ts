import type { FileMessageType, InstanceKind, JournalItem } from './types.js';

/**
 * Webhook bodies shaped like the documented samples (docs/greenapi.md §4). Defaults are the
 * sample values; every id stays a string except `instanceData.idInstance`, which Green-API
 * sends as a JSON integer.
 */

export type MessageWebhookType =
  'incomingMessageReceived' | 'outgoingMessageReceived' | 'outgoingAPIMessageReceived';

export type InstanceData = { idInstance: number; wid: string; typeInstance: 'whatsapp' | 'v3' };

export type InstanceRef = { kind: InstanceKind; idInstance: string; wid?: string };

export type SenderData = {
  chatId: string;
  chatName: string;
  sender: string;
  senderName: string;
  senderContactName: string;
  /** MAX only. */
  senderPhoneNumber?: number;
};

export type FileMessageData = {
  downloadUrl: string;
  caption?: string;
  fileName?: string;
  jpegThumbnail: string;
  mimeType: string;
  forwardingScore: number;
  isForwarded: boolean;
  isAnimated?: boolean;
};

type MessageEnvelope = {
  typeWebhook: MessageWebhookType;
  instanceData: InstanceData;
  timestamp: number;
  idMessage: string;
  senderData: SenderData;
};

export type FileWebhook = MessageEnvelope & {
  messageData: { typeMessage: FileMessageType; fileMessageData: FileMessageData };
};

export type TextWebhook = MessageEnvelope & {
  messageData: { typeMessage: 'textMessage'; textMessageData: { textMessage: string } };
};

export type MessageOptions = InstanceRef & {
  typeWebhook?: MessageWebhookType;
  chatId: string;
  idMessage: string;
  timestamp: number;
  sender?: string;
  senderName?: string;
  chatName?: string;
  senderPhoneNumber?: number;
};

export type FileWebhookOptions = MessageOptions & {
  typeMessage: FileMessageType;
  downloadUrl: string;
  fileName?: string;
  mimeType?: string;
  caption?: string;
  jpegThumbnail?: string;
  isForwarded?: boolean;
  forwardingScore?: number;
};

const DEFAULT_WID: Record<InstanceKind, string> = {
  whatsapp: '11001234567@c.us',
  max: '79991234567@c.us',
};

const DEFAULT_FILE: Record<FileMessageType, { mimeType: string; ext: string }> = {
  imageMessage: { mimeType: 'image/jpeg', ext: 'jpg' },
  videoMessage: { mimeType: 'video/mp4', ext: 'mp4' },
  documentMessage: { mimeType: 'application/pdf', ext: 'pdf' },
  audioMessage: { mimeType: 'audio/mpeg', ext: 'mp3' },
  stickerMessage: { mimeType: 'image/webp', ext: 'webp' },
};

export function instanceData({ kind, idInstance, wid }: InstanceRef): InstanceData {
  const id = Number(idInstance);
  // A JSON number above 2^53 cannot be produced from a JS object; Green-API ids are 10 digits.
  if (!/^\d+$/.test(idInstance) || !Number.isSafeInteger(id)) {
    throw new Error(`idInstance ${idInstance} cannot be sent as a JSON integer`);
  }
  return {
    idInstance: id,
    wid: wid ?? DEFAULT_WID[kind],
    typeInstance: kind === 'max' ? 'v3' : 'whatsapp',
  };
}

function envelope(o: MessageOptions): MessageEnvelope {
  const typeWebhook = o.typeWebhook ?? 'incomingMessageReceived';
  const data = instanceData(o);
  const incoming = typeWebhook === 'incomingMessageReceived';
  // Outgoing: sender is the instance's own account. Incoming group: some participant.
  const isGroup = o.chatId.endsWith('@g.us') || o.chatId.startsWith('-');
  const participant = o.kind === 'max' ? '10000000' : '79001234568@c.us';
  const sender = o.sender ?? (incoming ? (isGroup ? participant : o.chatId) : data.wid);
  const senderName = o.senderName ?? 'Green API';
  const senderData: SenderData = {
    chatId: o.chatId,
    chatName: o.chatName ?? senderName,
    sender,
    senderName,
    senderContactName: senderName,
    ...(o.kind === 'max' && incoming
      ? { senderPhoneNumber: o.senderPhoneNumber ?? 79991112233 }
      : {}),
  };
  return {
    typeWebhook,
    instanceData: data,
    timestamp: o.timestamp,
    idMessage: o.idMessage,
    senderData,
  };
}

export function fileWebhook(o: FileWebhookOptions): FileWebhook {
  const defaults = DEFAULT_FILE[o.typeMessage];
  const sticker = o.typeMessage === 'stickerMessage';
  const fileMessageData: FileMessageData = {
    downloadUrl: o.downloadUrl,
    // Stickers come without caption/fileName in the documented sample.
    ...(sticker && o.caption === undefined ? {} : { caption: o.caption ?? '' }),
    ...(sticker && o.fileName === undefined
      ? {}
      : { fileName: o.fileName ?? `${o.idMessage}.${defaults.ext}` }),
    jpegThumbnail: o.jpegThumbnail ?? '',
    mimeType: o.mimeType ?? defaults.mimeType,
    forwardingScore: o.forwardingScore ?? 0,
    isForwarded: o.isForwarded ?? false,
    ...(sticker ? { isAnimated: false } : {}),
  };
  return { ...envelope(o), messageData: { typeMessage: o.typeMessage, fileMessageData } };
}

export function textWebhook(o: MessageOptions & { textMessage: string }): TextWebhook {
  return {
    ...envelope(o),
    messageData: { typeMessage: 'textMessage', textMessageData: { textMessage: o.textMessage } },
  };
}

/**
 * A message webhook of any `typeMessage`: the envelope of the documented samples around the
 * given `messageData` (text, edits, deletions, polls, reactions, an unknown type, …).
 */
export function messageWebhook<D extends { typeMessage: string }>(
  o: MessageOptions & { messageData: D },
): MessageEnvelope & { messageData: D } {
  return { ...envelope(o), messageData: o.messageData };
}

/** The flat journal item Green-API keeps for the same message (docs/greenapi.md §8). */
export function journalItemFrom(hook: FileWebhook): JournalItem {
  const { fileMessageData: f, typeMessage } = hook.messageData;
  const common = {
    idMessage: hook.idMessage,
    timestamp: hook.timestamp,
    typeMessage,
    chatId: hook.senderData.chatId,
    downloadUrl: f.downloadUrl,
    caption: f.caption ?? '',
    fileName: f.fileName ?? '',
    jpegThumbnail: f.jpegThumbnail,
    mimeType: f.mimeType,
    isForwarded: f.isForwarded,
    forwardingScore: f.forwardingScore,
  };
  if (hook.typeWebhook === 'incomingMessageReceived') {
    const s = hook.senderData;
    return {
      ...common,
      type: 'incoming',
      senderId: s.sender,
      senderName: s.senderName,
      senderContactName: s.senderContactName,
    };
  }
  return {
    ...common,
    type: 'outgoing',
    statusMessage: 'sent',
    sendByApi: hook.typeWebhook === 'outgoingAPIMessageReceived',
  };
}
