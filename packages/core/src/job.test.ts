import { describe, expect, it } from 'vitest';
import { classifyWebhook } from '@archiver/greenapi';
import {
  archiveJobId,
  archiveJobSchema,
  jobFromJournal,
  jobFromWebhook,
  readArchiveJob,
} from './job.js';
import { readKeptMessage } from './kept-message.js';

const body = {
  typeWebhook: 'incomingMessageReceived',
  instanceData: { idInstance: 1101000002, wid: '71234567890@c.us', typeInstance: 'whatsapp' },
  timestamp: 1705466692,
  idMessage: 'B8C959F41DDF44C312053B420A16C217',
  senderData: { chatId: '71231234567@c.us', sender: '71234567890@c.us' },
  messageData: {
    typeMessage: 'imageMessage',
    fileMessageData: {
      downloadUrl: 'https://sw-media-1101.storage.yandexcloud.net/1/a.jpg',
      jpegThumbnail: '/9j/4AAQSkZJRg',
      mimeType: 'image/jpeg',
      fileName: 'a.jpg',
    },
    quotedMessage: { stanzaId: 'X', jpegThumbnail: 'AAAA' },
  },
};

describe('archive jobs', () => {
  it('derives one stable id per (instance, chat, message) that BullMQ accepts', () => {
    const id = archiveJobId('1101000002', '71231234567@c.us', 'B8C9');
    expect(id).toBe(archiveJobId('1101000002', '71231234567@c.us', 'B8C9'));
    expect(id).not.toBe(archiveJobId('1101000002', '71231234568@c.us', 'B8C9'));
    expect(id).toMatch(/^1101000002-[A-Za-z0-9_-]{22}$/);
  });

  it('builds job data from a webhook without thumbnails', () => {
    const result = classifyWebhook(body);
    if (result.kind !== 'file') throw new Error('expected a file');
    const data = jobFromWebhook(result.webhook, 'whatsapp', 'webhook', 42);
    expect(archiveJobSchema.parse(data)).toEqual(data);
    expect(data).toMatchObject({
      idInstance: '1101000002',
      chatId: '71231234567@c.us',
      fileName: 'a.jpg',
      tooLarge: false,
      receivedAt: 42,
    });
    const { jpegThumbnail: _, ...file } = body.messageData.fileMessageData;
    const { jpegThumbnail: __, ...quoted } = body.messageData.quotedMessage;
    // The body as parsed: the instance id is a string whichever way Green-API sent it.
    expect(readKeptMessage(data.message)).toEqual({
      ...body,
      instanceData: { ...body.instanceData, idInstance: '1101000002' },
      messageData: { ...body.messageData, fileMessageData: file, quotedMessage: quoted },
    });
  });

  it('records {{SWE002}} as too large without a link', () => {
    const result = classifyWebhook({
      ...body,
      messageData: { ...body.messageData, fileMessageData: { downloadUrl: '{{SWE002}}' } },
    });
    if (result.kind !== 'file') throw new Error('expected a file');
    expect(jobFromWebhook(result.webhook, 'max', 'webhook')).toMatchObject({
      tooLarge: true,
      kind: 'max',
    });
  });

  it('builds job data from a flat journal item', () => {
    const item = {
      type: 'outgoing' as const,
      idMessage: 'M1',
      timestamp: 1705466692,
      typeMessage: 'documentMessage',
      chatId: '1@c.us',
      downloadUrl: 'https://x.storage.yandexcloud.net/d.pdf',
      fileName: 'd.pdf',
    };
    const data = jobFromJournal('1101000002', 'whatsapp', { ...item, jpegThumbnail: 'AAAA' });
    expect(data).toMatchObject({
      source: 'journal',
      typeWebhook: 'outgoingMessageReceived',
      fileName: 'd.pdf',
    });
    expect(readKeptMessage(data.message)).toEqual(item);
  });

  it('reads a job for the worker: its kept body unpacked, old unpacked bodies too', () => {
    const result = classifyWebhook(body);
    if (result.kind !== 'file') throw new Error('expected a file');
    const data = jobFromWebhook(result.webhook, 'whatsapp', 'webhook', 42);
    const read = readArchiveJob(data);
    expect(read).toMatchObject({ ok: true, data, message: { idMessage: body.idMessage } });

    const legacy = { ...data, message: { idMessage: body.idMessage } };
    expect(readArchiveJob(legacy)).toMatchObject({ ok: true, message: legacy.message });
    expect(readArchiveJob({ ...data, message: 'd1:????' })).toEqual({
      ok: false,
      error: 'message: not a readable kept body',
    });
    expect(readArchiveJob({ ...data, chatId: '' })).toMatchObject({ ok: false });
  });
});
