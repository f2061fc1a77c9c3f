import { deflateRawSync, inflateRawSync } from 'node:zlib';

/**
 * The webhook body (or journal item) a job keeps for its sidecar, stored packed: JSON without
 * base64 thumbnails, deflated with a preset dictionary of Green-API's field names and common
 * values, in base64. A realistic 833-byte document webhook packs to 413 characters, and that
 * is what keeps a queued job within 2 KiB of Redis memory with Redis' default settings
 * (BENCHMARKS.md, redis-memory). Packing costs 16–20 µs per file webhook in isolation and
 * 27 µs of receiver CPU under load (A/B against an unpacked body; Node's zlib builds a
 * stream object per call), about a sixth of the receiver's throughput; unpacking about 8 µs.
 */
export type KeptMessage = string;

const TAG = 'd1:';

/**
 * Never edit: queued jobs were packed with it. A better dictionary gets a new tag beside this
 * one. Deflate finds matches nearest the end of the dictionary cheapest, so the skeleton of
 * the common file webhook comes last.
 */
const DICTIONARY_D1 = Buffer.from(
  [
    '"type":"incoming","type":"outgoing","senderId":"","statusMessage":"","sendByApi":false,',
    '"quotedMessage":{"stanzaId":"","participant":"","typeMessage":"textMessage","textMessage":""},',
    '"extendedTextMessageData":{"text":"","description":"","title":"","previewType":"None"},',
    '"imageMessage","videoMessage","audioMessage","stickerMessage","@g.us","typeInstance":"max",',
    '"outgoingAPIMessageReceived","outgoingMessageReceived","image/jpeg","video/mp4","audio/ogg",',
    '{"typeWebhook":"incomingMessageReceived","instanceData":{"idInstance":,"wid":"@c.us",',
    '"typeInstance":"whatsapp"},"timestamp":,"idMessage":"","senderData":{"chatId":"@c.us",',
    '"sender":"@c.us","chatName":"","senderName":"","senderContactName":""},"messageData":{',
    '"typeMessage":"documentMessage","fileMessageData":{"downloadUrl":"https://","caption":"",',
    '"fileName":"","mimeType":"application/pdf","isForwarded":false,"forwardingScore":0}}}',
  ].join(''),
);

/** Packs `body` for a job, dropping every `jpegThumbnail` (base64 previews) at any depth. */
export function keepMessage(body: unknown): KeptMessage {
  // A replacer drops the thumbnails during the one serialisation, without copying the body.
  const json = JSON.stringify(body, (key, value: unknown) =>
    key === 'jpegThumbnail' ? undefined : value,
  );
  return TAG + deflateRawSync(json, { dictionary: DICTIONARY_D1 }).toString('base64');
}

/**
 * The kept body of a job, or undefined when it cannot be read. Jobs queued before bodies were
 * packed hold the object itself.
 */
export function readKeptMessage(
  kept: KeptMessage | Record<string, unknown>,
): Record<string, unknown> | undefined {
  if (typeof kept !== 'string') return kept;
  if (!kept.startsWith(TAG)) return undefined;
  try {
    const json = inflateRawSync(Buffer.from(kept.slice(TAG.length), 'base64'), {
      dictionary: DICTIONARY_D1,
    }).toString('utf8');
    const parsed = JSON.parse(json) as unknown;
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)
      ? (parsed as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}
