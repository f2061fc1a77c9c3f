import { inflateRawSync } from 'node:zlib';

/**
 * The webhook body (or journal item) a job keeps for its sidecar, stored packed: JSON without
 * base64 thumbnails, with Green-API's field names and common values replaced by two-character
 * codes (`t1:`). A realistic 831-byte document webhook packs to 441 bytes, and that is what
 * keeps a queued job within 2 KiB of Redis memory with Redis' default settings (BENCHMARKS.md,
 * redis-memory).
 *
 * Why not deflate: bodies packed with deflate and a preset dictionary (`d1:`, still read) came
 * out 1 % smaller (435) but cost 20 µs per webhook in isolation and about 35 µs under load
 * (Node's zlib builds a stream object per call), the largest single cost in the receiver; this
 * packing costs 9 µs, thumbnails dropped included.
 */
export type KeptMessage = string;

const TAG_TOKENS = 't1:';
const TAG_DEFLATE = 'd1:';

/**
 * Never edit: queued jobs were packed with it; a better table gets a new tag beside this one.
 * An entry's position is its code (`CODES`). A key comes with the punctuation around it, and
 * for the keys whose value is a string (all but the flags, numbers and objects) with the
 * quotes too: `,"key":"`, `","key":"` after another string, `{"key":"` first in an object.
 * Values and keys of other types still round-trip, at a few bytes more.
 */
const TOKENS_T1: readonly string[] = [
  // Green-API's keys in webhook order, then journal items' own keys.
  '{"typeWebhook":"',
  ',"instanceData":',
  '","instanceData":',
  '{"idInstance":',
  ',"wid":"',
  '","wid":"',
  ',"typeInstance":"',
  '","typeInstance":"',
  ',"timestamp":',
  ',"idMessage":"',
  '","idMessage":"',
  ',"senderData":',
  '","senderData":',
  '{"chatId":"',
  ',"chatId":"',
  '","chatId":"',
  ',"sender":"',
  '","sender":"',
  ',"chatName":"',
  '","chatName":"',
  ',"senderName":"',
  '","senderName":"',
  ',"senderContactName":"',
  '","senderContactName":"',
  ',"senderPhoneNumber":',
  '","senderPhoneNumber":',
  ',"messageData":',
  '{"typeMessage":"',
  ',"typeMessage":"',
  '","typeMessage":"',
  ',"fileMessageData":',
  '","fileMessageData":',
  '{"downloadUrl":"',
  ',"downloadUrl":"',
  '","downloadUrl":"',
  ',"caption":"',
  '","caption":"',
  ',"fileName":"',
  '","fileName":"',
  ',"mimeType":"',
  '","mimeType":"',
  ',"forwardingScore":',
  '","forwardingScore":',
  ',"isForwarded":',
  '","isForwarded":',
  ',"isAnimated":',
  ',"videoNote":',
  ',"quotedMessage":',
  '{"stanzaId":"',
  ',"stanzaId":"',
  '","stanzaId":"',
  ',"participant":"',
  '","participant":"',
  '{"type":"',
  ',"type":"',
  '","type":"',
  ',"senderId":"',
  '","senderId":"',
  ',"statusMessage":"',
  '","statusMessage":"',
  ',"sendByApi":',
  // Common values and pieces of values.
  'incomingMessageReceived',
  'outgoingMessageReceived',
  'outgoingAPIMessageReceived',
  'whatsapp',
  'incoming',
  'outgoing',
  'documentMessage',
  'imageMessage',
  'videoMessage',
  'audioMessage',
  'stickerMessage',
  'application/pdf',
  'image/jpeg',
  'image/webp',
  'video/mp4',
  'audio/ogg',
  'audio/mpeg',
  '@c.us',
  '@g.us',
  'https://sw-media-',
  '.storage.yandexcloud.net/',
  'false',
  'true',
];

/** The code of `TOKENS_T1[i]` is `~` + `CODES[i]`: printable ASCII, none of `~ ' " \`. */
const CODES =
  '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz!#$%&()*+-./:;<=>?@[]^_`{|}';

/**
 * `"` becomes `'`, because the packed body is stored inside BullMQ's JSON job data, where
 * every `"` would cost a backslash; a real `'` becomes `~'` and `~` becomes `~~`.
 */
const PACK: ReadonlyMap<string, string> = new Map([
  ...TOKENS_T1.map((token, i) => [token, `~${CODES[i]}`] as const),
  ['"', "'"],
  ["'", "~'"],
  ['~', '~~'],
]);
const UNPACK: ReadonlyMap<string, string> = new Map(
  [...PACK].map(([plain, packed]) => [packed, plain]),
);

// Longest first: an alternation takes the first alternative that matches, not the longest.
const PACK_PATTERN = new RegExp(
  [...PACK.keys()]
    .sort((a, b) => b.length - a.length)
    .map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
    .join('|'),
  'g',
);
const UNPACK_PATTERN = /~.|'/g;

if (TOKENS_T1.length > CODES.length) throw new Error('kept-message: more tokens than codes');

/** Packs `body` for a job, dropping every `jpegThumbnail` (base64 previews) at any depth. */
export function keepMessage(body: unknown): KeptMessage {
  // A replacer drops the thumbnails during the one serialisation, without copying the body.
  const json = JSON.stringify(body, (key, value: unknown) =>
    key === 'jpegThumbnail' ? undefined : value,
  );
  return TAG_TOKENS + json.replace(PACK_PATTERN, (plain) => PACK.get(plain) ?? plain);
}

/**
 * The kept body of a job, or undefined when it cannot be read. Jobs queued before bodies were
 * packed hold the object itself; jobs queued before `t1:` hold it deflated (`d1:`).
 */
export function readKeptMessage(
  kept: KeptMessage | Record<string, unknown>,
): Record<string, unknown> | undefined {
  if (typeof kept !== 'string') return kept;
  try {
    if (kept.startsWith(TAG_TOKENS)) return asObject(unpackTokens(kept.slice(TAG_TOKENS.length)));
    if (kept.startsWith(TAG_DEFLATE)) return asObject(inflateD1(kept.slice(TAG_DEFLATE.length)));
    return undefined;
  } catch {
    return undefined;
  }
}

function unpackTokens(packed: string): string {
  return packed.replace(UNPACK_PATTERN, (code) => {
    const plain = UNPACK.get(code);
    if (plain === undefined) throw new Error(`unknown code ${code}`);
    return plain;
  });
}

function asObject(json: string): Record<string, unknown> | undefined {
  const parsed = JSON.parse(json) as unknown;
  return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)
    ? (parsed as Record<string, unknown>)
    : undefined;
}

/** Never edit: jobs queued before `t1:` were deflated with it. */
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

function inflateD1(base64: string): string {
  return inflateRawSync(Buffer.from(base64, 'base64'), { dictionary: DICTIONARY_D1 }).toString(
    'utf8',
  );
}
