/**
 * The webhook body (or journal item) a job keeps for its record, stored packed: JSON with
 * Green-API's field names and common values replaced by two-character codes (`t1:`). A
 * realistic 831-byte document webhook packs to 441 bytes, and that is what keeps a queued job
 * within 2 KiB of Redis memory with Redis' default settings (BENCHMARKS.md, redis-memory).
 *
 * Kept is the body as received (its JSON value, not a parse of it: `idInstance` stays the
 * number Green-API sent), apart from two things docs/storage.md explains: every base64
 * `jpegThumbnail` is dropped, and every `downloadUrl` loses its query string and fragment (a
 * storage signature, a bearer credential while it lasts; the worker asks downloadFile for a
 * fresh link and never uses it).
 *
 * Why not deflate: a preset-dictionary deflate came out 1 % smaller but cost 20 µs per
 * webhook in isolation and about 35 µs under load (Node's zlib builds a stream object per
 * call), the largest single cost in the receiver; this packing costs 9 µs.
 */
export type KeptMessage = string;

const TAG_TOKENS = 't1:';

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

/**
 * Packs `body` for a job: every `jpegThumbnail` (base64 previews) dropped and every
 * `downloadUrl` cut before its query string, at any depth; nothing else changes.
 */
export function keepMessage(body: unknown): KeptMessage {
  // A replacer edits during the one serialisation, without copying the body.
  const json = JSON.stringify(body, (key, value: unknown) => {
    if (key === 'jpegThumbnail') return undefined;
    if (key === 'downloadUrl' && typeof value === 'string') return withoutQuery(value);
    return value;
  });
  return TAG_TOKENS + json.replace(PACK_PATTERN, (plain) => PACK.get(plain) ?? plain);
}

/** `https://host/path?X-Amz-Signature=…#f` → `https://host/path`; the marker `{{SWE002}}` stays. */
export function withoutQuery(url: string): string {
  const cut = url.search(/[?#]/);
  return cut === -1 ? url : url.slice(0, cut);
}

/** The kept body of a job, or undefined when it is not one `keepMessage` packed. */
export function readKeptMessage(kept: KeptMessage): Record<string, unknown> | undefined {
  if (typeof kept !== 'string' || !kept.startsWith(TAG_TOKENS)) return undefined;
  try {
    return asObject(unpackTokens(kept.slice(TAG_TOKENS.length)));
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
