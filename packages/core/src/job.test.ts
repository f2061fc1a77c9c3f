import { describe, expect, it } from 'vitest';
import { classifyWebhook } from '@archiver/greenapi';
import { archiveJobSchema } from './job-catalog.js';
import {
  archiveJobId,
  jobFromJournal,
  jobFromWebhook,
  readArchiveJob,
  storedJobData,
} from './job.js';
import { keepMessage, readKeptMessage } from './kept-message.js';

const body = {
  typeWebhook: 'incomingMessageReceived',
  instanceData: { idInstance: 1101000002, wid: '71234567890@c.us', typeInstance: 'whatsapp' },
  timestamp: 1705466692,
  idMessage: 'B8C959F41DDF44C312053B420A16C217',
  senderData: { chatId: '71231234567@c.us', sender: '71234567890@c.us' },
  messageData: {
    typeMessage: 'imageMessage',
    fileMessageData: {
      downloadUrl:
        'https://sw-media-1101.storage.yandexcloud.net/1/a.jpg?X-Amz-Signature=abc123&X-Amz-Expires=900',
      jpegThumbnail: '/9j/4AAQSkZJRg',
      mimeType: 'image/jpeg',
      fileName: 'a.jpg',
    },
    quotedMessage: { stanzaId: 'X', jpegThumbnail: 'AAAA' },
  },
};

function webhookJob(raw: unknown = body, now = 42) {
  const result = classifyWebhook(raw);
  if (result.kind !== 'file') throw new Error('expected a file');
  return jobFromWebhook(raw, result.webhook, 'whatsapp', 'webhook', now);
}

describe('archive jobs', () => {
  it('derives one stable id per (instance, chat, message) that BullMQ accepts', () => {
    const id = archiveJobId('1101000002', '71231234567@c.us', 'B8C9');
    expect(id).toBe(archiveJobId('1101000002', '71231234567@c.us', 'B8C9'));
    expect(id).not.toBe(archiveJobId('1101000002', '71231234568@c.us', 'B8C9'));
    expect(id).toMatch(/^1101000002-[A-Za-z0-9_-]{22}$/);
  });

  it('keeps the body as received, without thumbnails or the link signature', () => {
    const job = webhookJob();
    expect(job).toMatchObject({
      idInstance: '1101000002',
      chatId: '71231234567@c.us',
      fileName: 'a.jpg',
      tooLarge: false,
      receivedAt: 42,
    });
    const { jpegThumbnail: _, ...file } = body.messageData.fileMessageData;
    const { jpegThumbnail: __, ...quoted } = body.messageData.quotedMessage;
    // Not a parse of the body: the instance id is still the number Green-API sent.
    expect(readKeptMessage(job.message)).toEqual({
      ...body,
      messageData: {
        ...body.messageData,
        fileMessageData: {
          ...file,
          downloadUrl: 'https://sw-media-1101.storage.yandexcloud.net/1/a.jpg',
        },
        quotedMessage: quoted,
      },
    });
  });

  it('stores nothing twice: the facts are read back from the kept body', () => {
    const job = webhookJob();
    const stored = storedJobData(job);
    expect(stored).toEqual({
      source: 'webhook',
      kind: 'whatsapp',
      message: job.message,
      receivedAt: 42,
    });
    expect(archiveJobSchema.parse(stored)).toEqual(stored);
    // Through Redis: BullMQ stores the data as JSON.
    const read = readArchiveJob(JSON.parse(JSON.stringify(stored)));
    expect(read).toEqual({ ok: true, data: job, message: readKeptMessage(job.message) });
    // What a retry or a delay adds to the stored data is read back too.
    const later = readArchiveJob({ ...stored, lastError: 'x', graceUntil: 7, slotAt: 9 });
    expect(later).toMatchObject({ ok: true, data: { lastError: 'x', graceUntil: 7, slotAt: 9 } });
  });

  it('records {{SWE002}} as too large without a link', () => {
    const job = webhookJob({
      ...body,
      messageData: { ...body.messageData, fileMessageData: { downloadUrl: '{{SWE002}}' } },
    });
    expect(job).toMatchObject({ tooLarge: true });
    expect(readArchiveJob(storedJobData(job))).toMatchObject({
      ok: true,
      data: { tooLarge: true },
    });
  });

  it('builds a job from a flat journal item, which alone stores its instance id', () => {
    const item = {
      type: 'outgoing' as const,
      idMessage: 'M1',
      timestamp: 1705466692,
      typeMessage: 'documentMessage',
      chatId: '1@c.us',
      downloadUrl: 'https://x.storage.yandexcloud.net/d.pdf?sig=1#frag',
      fileName: 'd.pdf',
    };
    const job = jobFromJournal('1101000002', 'max', { ...item, jpegThumbnail: 'AAAA' }, 42);
    expect(job).toMatchObject({
      source: 'journal',
      idInstance: '1101000002',
      typeWebhook: 'outgoingMessageReceived',
      fileName: 'd.pdf',
    });
    expect(readKeptMessage(job.message)).toEqual({
      ...item,
      downloadUrl: 'https://x.storage.yandexcloud.net/d.pdf',
    });
    const stored = storedJobData(job);
    expect(Object.keys(stored).sort()).toEqual([
      'idInstance',
      'kind',
      'message',
      'receivedAt',
      'source',
    ]);
    expect(readArchiveJob(stored)).toMatchObject({ ok: true, data: job });
  });

  it('refuses data it cannot read, saying where', () => {
    const stored = storedJobData(webhookJob());
    expect(readArchiveJob({ ...stored, message: 'd1:????' })).toEqual({
      ok: false,
      error: 'message: not a readable kept body',
    });
    expect(readArchiveJob({ ...stored, message: { idMessage: 'M1' } })).toMatchObject({
      ok: false,
    });
    const noChat = keepMessage({ ...body, senderData: { chatId: '' } });
    expect(readArchiveJob({ ...stored, message: noChat })).toEqual({
      ok: false,
      error: 'message: senderData.chatId: Too small: expected string to have >=1 characters',
    });
    expect(readArchiveJob({ ...stored, source: 'journal' })).toEqual({
      ok: false,
      error: 'idInstance: missing',
    });
  });
});
