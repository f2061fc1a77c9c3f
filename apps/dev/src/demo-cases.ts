import { randomBytes } from 'node:crypto';
import type {
  FaultStep,
  FileMessageType,
  InstanceKind,
  MessageWebhookType,
} from '@archiver/testkit';
import { pdfDocument, pngImage } from './demo-content.js';

/** One demo message: what the simulator holds, the webhook that announces it, and the expectation. */
export type DemoCase = {
  kind: InstanceKind;
  idInstance: string;
  typeMessage: FileMessageType;
  typeWebhook: MessageWebhookType;
  /** What this row shows, e.g. "incoming, group chat". */
  story: string;
  chatId: string;
  idMessage: string;
  timestamp: number;
  fileName?: string;
  mimeType: string;
  /** Undefined: the simulator has no file for it (gone from Green-API's storage). */
  content?: { base64: string } | { size: number };
  faults?: { downloadFile: FaultStep[] };
  expect: 'archived' | 'no_file';
};

type Spec = Omit<DemoCase, 'idInstance' | 'kind' | 'idMessage' | 'timestamp' | 'expect'> & {
  expect?: DemoCase['expect'];
};

const WA_CHAT = '79001234567@c.us';
const WA_GROUP = '120363043968066561@g.us';
const MAX_CHAT = '10000000';
const MAX_GROUP = '-1000000000001';

const KB = 1024;
const bytes = (buffer: Buffer) => ({ base64: buffer.toString('base64') });

const WHATSAPP: Spec[] = [
  {
    typeMessage: 'imageMessage',
    typeWebhook: 'incomingMessageReceived',
    story: 'incoming, private chat',
    chatId: WA_CHAT,
    fileName: 'beach.png',
    mimeType: 'image/png',
    content: bytes(pngImage(640, 400, 40)),
  },
  {
    typeMessage: 'videoMessage',
    typeWebhook: 'outgoingMessageReceived',
    story: 'sent from the phone, group (multipart upload)',
    chatId: WA_GROUP,
    fileName: 'clip.mp4',
    mimeType: 'video/mp4',
    content: { size: 9_500 * KB },
  },
  {
    typeMessage: 'documentMessage',
    typeWebhook: 'outgoingAPIMessageReceived',
    story: 'sent through the API',
    chatId: WA_CHAT,
    fileName: 'report.pdf',
    mimeType: 'application/pdf',
    content: bytes(pdfDocument(['Quarterly report', 'Archived by greenapi-archiver (demo).'])),
  },
  {
    typeMessage: 'audioMessage',
    typeWebhook: 'incomingMessageReceived',
    story: 'voice note',
    chatId: WA_CHAT,
    fileName: 'voice-note.ogg',
    mimeType: 'audio/ogg; codecs=opus',
    content: { size: 38 * KB },
  },
  {
    typeMessage: 'stickerMessage',
    typeWebhook: 'incomingMessageReceived',
    story: 'group, no file name',
    chatId: WA_GROUP,
    mimeType: 'image/webp',
    content: { size: 24 * KB },
  },
  {
    typeMessage: 'documentMessage',
    typeWebhook: 'incomingMessageReceived',
    story: 'downloadFile fails once (500), then OK',
    chatId: WA_CHAT,
    fileName: 'contract.pdf',
    mimeType: 'application/pdf',
    content: bytes(
      pdfDocument(['Contract', 'The first download attempt failed; the retry archived it.']),
    ),
    faults: { downloadFile: [{ status: 500 }, 'ok'] },
  },
];

const MAX: Spec[] = [
  {
    typeMessage: 'imageMessage',
    typeWebhook: 'incomingMessageReceived',
    story: 'incoming, private chat',
    chatId: MAX_CHAT,
    fileName: 'photo.png',
    mimeType: 'image/png',
    content: bytes(pngImage(480, 480, 160)),
  },
  {
    typeMessage: 'videoMessage',
    typeWebhook: 'incomingMessageReceived',
    story: 'incoming, group',
    chatId: MAX_GROUP,
    fileName: 'video.mp4',
    mimeType: 'video/mp4',
    content: { size: 3_000 * KB },
  },
  {
    typeMessage: 'documentMessage',
    typeWebhook: 'outgoingAPIMessageReceived',
    story: 'sent through the API',
    chatId: MAX_CHAT,
    fileName: 'invoice.pdf',
    mimeType: 'application/pdf',
    content: bytes(pdfDocument(['Invoice 42', 'Sent over MAX.'])),
  },
  {
    typeMessage: 'audioMessage',
    typeWebhook: 'outgoingMessageReceived',
    story: 'sent from the phone',
    chatId: MAX_CHAT,
    fileName: 'song.mp3',
    mimeType: 'audio/mpeg',
    content: { size: 120 * KB },
  },
  {
    typeMessage: 'stickerMessage',
    typeWebhook: 'incomingMessageReceived',
    story: 'incoming, no file name',
    chatId: MAX_CHAT,
    mimeType: 'image/webp',
    content: { size: 20 * KB },
  },
  {
    typeMessage: 'documentMessage',
    typeWebhook: 'incomingMessageReceived',
    story: 'gone from Green-API storage',
    chatId: MAX_CHAT,
    fileName: 'old-scan.pdf',
    mimeType: 'application/pdf',
    expect: 'no_file',
  },
];

/**
 * The demo's messages, with fresh ids on every run (a second run must not be a duplicate of
 * the first): every file type on both kinds of instance, one that fails once, one that is gone.
 */
export function demoCases(
  instances: Array<{ idInstance: string; kind: InstanceKind }>,
  now = Date.now(),
): DemoCase[] {
  const timestamp = Math.floor(now / 1000);
  return instances.flatMap(({ idInstance, kind }) =>
    (kind === 'whatsapp' ? WHATSAPP : MAX).map((spec) => ({
      ...spec,
      kind,
      idInstance,
      // WhatsApp ids are 32 hex digits, MAX ids long decimal numbers (docs/greenapi.md §4).
      idMessage:
        kind === 'whatsapp' ? randomBytes(16).toString('hex').toUpperCase() : randomDecimal(18),
      timestamp,
      expect: spec.expect ?? 'archived',
    })),
  );
}

function randomDecimal(digits: number): string {
  return Array.from(randomBytes(digits), (b, i) => (i === 0 ? 1 + (b % 9) : b % 10)).join('');
}
