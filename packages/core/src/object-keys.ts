import { createHash } from 'node:crypto';
import type { InstanceKind } from '@archiver/greenapi';

/** MinIO and file-system-backed S3 servers reject longer path segments. */
const MAX_SEGMENT_BYTES = 200;
const SIDECAR_NAME = 'message.json';
// Control characters and the bidirectional overrides that can make a key display as
// something else (U+202A–202E, U+2066–2069).
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069/\\]/g;

export type KeyParts = {
  prefix: string;
  kind: InstanceKind;
  idInstance: string;
  chatId: string;
  idMessage: string;
  /** UNIX seconds; the date folders are its UTC date. */
  timestamp: number;
  fileName?: string;
  mimeType?: string;
};

/** `{prefix}{kind}/{idInstance}/{chatId}/`: every day of one chat, files, records and events. */
export function chatFolder(p: Pick<KeyParts, 'prefix' | 'kind' | 'idInstance' | 'chatId'>): string {
  return `${instanceFolder(p)}${idSegment(p.chatId)}/`;
}

/** `{prefix}{kind}/{idInstance}/{chatId}/{YYYY}/{MM}/{DD}/`: one chat's day (UTC). */
export function chatDayFolder(
  p: Pick<KeyParts, 'prefix' | 'kind' | 'idInstance' | 'chatId' | 'timestamp'>,
): string {
  return `${chatFolder(p)}${datePath(p.timestamp)}/`;
}

/** The folder of one message: `{prefix}{kind}/{idInstance}/{chatId}/{YYYY}/{MM}/{DD}/{idMessage}/`. */
export function messageFolder(p: Omit<KeyParts, 'fileName' | 'mimeType'>): string {
  return `${chatDayFolder(p)}${idSegment(p.idMessage)}/`;
}

/** Where a chat's other events sit in its day folder (docs/conversation.md §3). */
export const EVENTS_FOLDER = '_events';
/**
 * The chat statuses ("stories") are kept under, whoever posted them: WhatsApp's own name for
 * the status broadcast list, so a reviewer finds them apart from each person's conversation.
 */
export const STATUS_CHAT = 'status@broadcast';
/** Where the events of an instance that name no chat sit, in place of a chat. */
export const INSTANCE_FOLDER = '_instance';

export type EventKeyParts = Pick<KeyParts, 'prefix' | 'kind' | 'idInstance' | 'timestamp'> & {
  /** Undefined: an event of the instance. */
  chatId: string | undefined;
  typeWebhook: string;
  /** Hex digest of the event's kept body: the same event always gets the same key. */
  digest: string;
};

/**
 * `…/{chatId}/{YYYY}/{MM}/{DD}/_events/{HHMMSS}-{typeWebhook}-{digest16}.json`, or for an
 * event of the instance `…/{idInstance}/_instance/{YYYY}/{MM}/{DD}/{HHMMSS}-….json`. The time
 * first, so a day's listing is in time order.
 */
export function eventKey(p: EventKeyParts): string {
  const folder =
    p.chatId === undefined
      ? `${instanceFolder(p)}${INSTANCE_FOLDER}/${datePath(p.timestamp)}/`
      : `${chatDayFolder({ ...p, chatId: p.chatId })}${EVENTS_FOLDER}/`;
  const date = new Date(p.timestamp * 1000);
  const time = [date.getUTCHours(), date.getUTCMinutes(), date.getUTCSeconds()]
    .map((n) => String(n).padStart(2, '0'))
    .join('');
  return `${folder}${time}-${safeSegment(p.typeWebhook)}-${p.digest.slice(0, 16)}.json`;
}

/** `{prefix}{kind}/{idInstance}/`: everything of one instance (its chats and `_instance`). */
export function instanceFolder(p: Pick<KeyParts, 'prefix' | 'kind' | 'idInstance'>): string {
  return `${p.prefix}${p.kind}/${safeSegment(p.idInstance)}/`;
}

function datePath(timestamp: number): string {
  const date = new Date(timestamp * 1000);
  const yyyy = String(date.getUTCFullYear()).padStart(4, '0');
  const mm = String(date.getUTCMonth() + 1).padStart(2, '0');
  const dd = String(date.getUTCDate()).padStart(2, '0');
  return `${yyyy}/${mm}/${dd}`;
}

/**
 * A chat or message id as a segment. Names starting with `_` are the archiver's own
 * (`_events`, `_instance`): an id that starts so (no real one does) gets a hashed name, so it
 * can never be taken for one of them.
 */
function idSegment(name: string): string {
  const safe = safeSegment(name);
  if (!safe.startsWith('_') || safe !== name) return safe;
  const suffix = `~${shortHash(name)}`;
  return cutKeepingExtension(safe, MAX_SEGMENT_BYTES - byteLength(suffix), suffix);
}

/** Deterministic keys: the same message always maps to the same two objects. */
export function objectKeys(p: KeyParts): { fileKey: string; sidecarKey: string } {
  const folder = messageFolder(p);
  return { fileKey: folder + fileSegment(p), sidecarKey: folder + SIDECAR_NAME };
}

/**
 * A key-safe path segment. Any name that had to change gets a short hash of the original,
 * so two different names never map to the same segment.
 */
export function safeSegment(name: string): string {
  // A lone UTF-16 surrogate (an emoji cut in half) becomes U+FFFD in UTF-8, so two such names
  // would meet: they are replaced, and hashed from their UTF-16 code units.
  let safe = name.toWellFormed().replace(UNSAFE, '_');
  if (safe === '' || safe === '.' || safe === '..') safe = safe.replace(/\./g, '_') || '_';
  if (safe === name && byteLength(safe) <= MAX_SEGMENT_BYTES) return safe;
  const suffix = `~${shortHash(name)}`;
  return cutKeepingExtension(safe, MAX_SEGMENT_BYTES - byteLength(suffix), suffix);
}

function fileSegment(p: KeyParts): string {
  const name = p.fileName?.trim() ? p.fileName : `${p.idMessage}${extensionFor(p.mimeType)}`;
  // The sidecar's name is reserved: a file called message.json gets a hashed name.
  if (name === SIDECAR_NAME) {
    return cutKeepingExtension('message', MAX_SEGMENT_BYTES, `~${shortHash(name)}.json`);
  }
  return safeSegment(name);
}

/** Cuts `name` to `maxBytes` of UTF-8 on a character boundary, keeping a short extension. */
function cutKeepingExtension(name: string, maxBytes: number, suffix: string): string {
  const dot = name.lastIndexOf('.');
  const ext = dot > 0 && name.length - dot <= 16 ? name.slice(dot) : '';
  const stem = ext ? name.slice(0, dot) : name;
  let out = '';
  for (const char of stem) {
    if (byteLength(out + char) + byteLength(ext) > maxBytes) break;
    out += char;
  }
  return suffix.endsWith('.json') ? out + suffix : out + suffix + ext;
}

function shortHash(value: string): string {
  const bytes = value.isWellFormed() ? Buffer.from(value, 'utf8') : Buffer.from(value, 'utf16le');
  return createHash('sha256').update(bytes).digest('hex').slice(0, 10);
}

function byteLength(value: string): number {
  return Buffer.byteLength(value, 'utf8');
}

const EXTENSIONS: Record<string, string> = {
  'image/jpeg': '.jpg',
  'image/png': '.png',
  'image/webp': '.webp',
  'image/gif': '.gif',
  'video/mp4': '.mp4',
  'video/3gpp': '.3gp',
  'audio/mpeg': '.mp3',
  'audio/ogg': '.ogg',
  'audio/mp4': '.m4a',
  'application/pdf': '.pdf',
};

function extensionFor(mimeType: string | undefined): string {
  const base = mimeType?.split(';')[0]?.trim().toLowerCase();
  return (base && EXTENSIONS[base]) ?? '.bin';
}
