import { randomBytes } from 'node:crypto';
import { classifyWebhook } from '@archiver/greenapi';
import {
  jobFromWebhook,
  readKeptMessage,
  receivedOf,
  recordJobFromMessage,
  recordKey,
  type ArchiveJob,
  type RecordJobData,
} from '@archiver/core';
import { fileWebhook, textWebhook, type FakeGreenApi, type FileWebhook } from '@archiver/testkit';

export type BenchInstance = {
  idInstance: string;
  apiTokenInstance: string;
  kind: 'whatsapp';
  webhookToken: string;
};

/** Instances as the archiver is configured with them (tokens are throwaway bench values). */
export function benchInstances(count: number): BenchInstance[] {
  return Array.from({ length: count }, (_, i) => ({
    idInstance: String(1101000001 + i),
    apiTokenInstance: `bench-api-token-${i}-5f0c`,
    kind: 'whatsapp' as const,
    webhookToken: `bench-webhook-token-${i}-a9d2`,
  }));
}

const BODY_BYTES = 1536;
// A thumbnail-sized base64 blob; random so the body does not compress to nothing on the wire.
const THUMBNAIL_POOL = randomBytes(2048).toString('base64');

/**
 * A file webhook shaped like Green-API's (documentMessage with caption, a long storage link and a
 * small jpegThumbnail), padded with the thumbnail to ~1.5 KB of JSON as measured on real traffic.
 */
export function realisticWebhook(o: {
  idInstance: string;
  idMessage: string;
  chatId?: string;
  downloadUrl?: string;
  timestamp?: number;
}): FileWebhook {
  const base = fileWebhook({
    kind: 'whatsapp',
    idInstance: o.idInstance,
    wid: '79876543210@c.us',
    chatId: o.chatId ?? '79001234567@c.us',
    idMessage: o.idMessage,
    timestamp: o.timestamp ?? Math.floor(Date.now() / 1000),
    typeMessage: 'documentMessage',
    senderName: 'Иван Петров',
    chatName: 'Иван Петров',
    downloadUrl:
      o.downloadUrl ??
      `https://sw-media-1101.storage.yandexcloud.net/${o.idInstance}/3f8e2c1a-9b7d-4e21-a5c3-7d19f0b2e6a4.pdf`,
    fileName: 'Счёт_на_оплату_1234_ноябрь_2026.pdf',
    mimeType: 'application/pdf',
    caption: 'Счёт на оплату №1234 за ноябрь, прошу подтвердить получение до пятницы',
  });
  const size = Buffer.byteLength(JSON.stringify(base));
  const pad = Math.max(0, BODY_BYTES - size);
  base.messageData.fileMessageData.jpegThumbnail = THUMBNAIL_POOL.slice(0, pad);
  return base;
}

/** The archive job the receiver stores for `hook` (same classification and mapping). */
export function jobFromHook(hook: FileWebhook): ArchiveJob {
  const body: unknown = JSON.parse(JSON.stringify(hook));
  const result = classifyWebhook(body);
  if (result.kind !== 'file') throw new Error(`not a file webhook: ${JSON.stringify(result)}`);
  return jobFromWebhook(body, result.webhook, 'whatsapp', 'webhook');
}

/** Puts a file in the fake and returns the job its webhook would produce, plus its checksum. */
export function fileJob(
  fake: FakeGreenApi,
  o: { idInstance: string; chatId: string; idMessage: string; size: number },
) {
  const added = fake.addFile({ ...o, fileName: `${o.idMessage}.bin` });
  const hook = realisticWebhook({ ...o, downloadUrl: added.downloadUrl });
  hook.messageData.fileMessageData.fileName = added.fileName;
  hook.messageData.fileMessageData.mimeType = added.mimeType;
  return { data: jobFromHook(hook), added };
}

/** A chat message of everyday length: about 130 characters of Cyrillic, as business chats read. */
const TEXT =
  'Добрый день! Подтверждаю получение счёта №1234 за ноябрь, оплату проведём до пятницы. Акт пришлю отдельным сообщением.';

/**
 * The record job the receiver stores for an incoming text webhook (~650 bytes of JSON):
 * the same classification, mapping and hash of the bytes received.
 */
export function textRecordJob(o: {
  idInstance: string;
  chatId: string;
  idMessage: string;
  timestamp: number;
}): RecordJobData {
  const text = JSON.stringify(
    textWebhook({
      kind: 'whatsapp',
      idInstance: o.idInstance,
      wid: '79876543210@c.us',
      chatId: o.chatId,
      idMessage: o.idMessage,
      timestamp: o.timestamp,
      senderName: 'Иван Петров',
      chatName: 'Иван Петров',
      textMessage: `${TEXT} ${o.idMessage}`,
    }),
  );
  const body: unknown = JSON.parse(text);
  const result = classifyWebhook(body);
  if (result.kind !== 'message') throw new Error(`not a message webhook: ${result.kind}`);
  return recordJobFromMessage(result.webhook, body, 'whatsapp', 'webhook', receivedOf(text, true));
}

/**
 * The key (under `prefix`) and the bytes the worker writes for a record job of a message
 * (apps/worker/src/jobs/records.ts, messageRecord): the same fields, pretty-printed.
 */
export function recordObject(prefix: string, d: RecordJobData): { key: string; body: string } {
  const record = {
    status: 'recorded',
    idInstance: d.idInstance,
    chatId: d.chatId,
    idMessage: d.idMessage,
    kind: d.kind,
    typeWebhook: d.typeWebhook,
    typeMessage: d.typeMessage,
    timestamp: d.timestamp,
    stanzaId: d.stanzaId,
    attempts: 1,
    source: d.source,
    recordedAt: new Date().toISOString(),
    received: d.received,
    message: readKeptMessage(d.message),
  };
  return { key: recordKey(prefix, d), body: JSON.stringify(record, null, 2) };
}
