import type { InstanceKind } from '@archiver/greenapi';

export type { InstanceKind };

/** `stateInstance` values (docs/greenapi.md §4.8). */
export type InstanceState = 'authorized' | 'notAuthorized' | 'starting' | 'blocked' | 'yellowCard';

export type FileMessageType =
  'imageMessage' | 'videoMessage' | 'documentMessage' | 'audioMessage' | 'stickerMessage';

export type AddInstanceOptions = {
  idInstance: string;
  apiTokenInstance: string;
  kind: InstanceKind;
  /** downloadFile requests per second; default 5 for WhatsApp, 1 for MAX (docs/greenapi.md §6.1). */
  rps?: number;
  /** Account id used by journal items / webhook builders; a documented sample by default. */
  wid?: string;
  /** Settings already in place (GetSettings values); otherwise all off, as after creation. */
  settings?: Record<string, string | number>;
  /** Default `authorized`. */
  state?: InstanceState;
};

export type MessageRef = { idInstance: string; chatId: string; idMessage: string };

export type AddFileOptions = MessageRef & {
  /** Exact content. Otherwise `size` bytes of deterministic pseudo-random content. */
  bytes?: Buffer;
  /** Generated lazily while streaming, so multi-GB files cost no memory. Default 1024. */
  size?: number;
  /** Seed for generated content; default derived from the message ref. */
  seed?: string;
  fileName?: string;
  mimeType?: string;
  /** Also record a journal item of this direction (lastIncoming/OutgoingMessages, getChatHistory). */
  direction?: 'incoming' | 'outgoing';
  /** Journal fields; typeMessage defaults from mimeType, timestamp to now. */
  typeMessage?: FileMessageType;
  timestamp?: number;
  caption?: string;
  senderId?: string;
  senderName?: string;
  sendByApi?: boolean;
};

export type AddedFile = {
  downloadUrl: string;
  sha256: string;
  size: number;
  fileName: string;
  mimeType: string;
};

/**
 * One scripted reaction, consumed per downloadFile call or per file GET of a message:
 * - `'ok'`: behave normally;
 * - `{ status, body? }`: answer that status (body defaults to the status text);
 * - `{ truncateAfter }`: send the headers (full Content-Length) and that many body bytes, then
 *   close the connection;
 * - `{ stallAfter }`: send that many body bytes, then neither finish nor close (client timeouts);
 * - `{ delayMs }`: wait, then behave normally.
 */
export type FaultStep =
  | 'ok'
  /**
   * Answer this status. `echoUrl` appends the request line to the body, as some servers and
   * proxies do in their error pages: for an API call it carries the instance token.
   */
  | { status: number; body?: string; echoUrl?: boolean }
  | { truncateAfter: number }
  | { stallAfter: number }
  | { delayMs: number };

export type CallRecord = {
  /** Arrival time, ms (the fake's clock). */
  at: number;
  /** '' when the URL named no known file / instance path. */
  idInstance: string;
  /** API method name as documented (`downloadFile`, …), `file` for a file GET, `unknown`. */
  method: string;
  /** HTTP status sent; 0 while the request is pending (long-poll) or if none was sent. */
  status: number;
};

type JournalBase = {
  idMessage: string;
  /** UNIX seconds. */
  timestamp: number;
  typeMessage: string;
  chatId: string;
  textMessage?: string;
  downloadUrl?: string;
  caption?: string;
  fileName?: string;
  jpegThumbnail?: string;
  mimeType?: string;
  isForwarded?: boolean;
  forwardingScore?: number;
};

/** Flat journal items as lastIncomingMessages / getChatHistory return them (docs/greenapi.md §8). */
export type IncomingJournalItem = JournalBase & {
  type: 'incoming';
  senderId: string;
  senderName: string;
  senderContactName?: string;
};

export type OutgoingJournalItem = JournalBase & {
  type: 'outgoing';
  statusMessage:
    | 'pending'
    | 'sent'
    | 'delivered'
    | 'read'
    | 'failed'
    | 'noAccount'
    | 'notInGroup'
    | 'yellowCard';
  sendByApi: boolean;
};

export type JournalItem = IncomingJournalItem | OutgoingJournalItem;
