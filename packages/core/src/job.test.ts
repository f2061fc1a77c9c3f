import { describe, expect, it } from 'vitest';
import { classifyWebhook } from '@archiver/greenapi';
import {
  archiveJobId,
  archiveJobSchema,
  jobFromJournal,
  jobFromWebhook,
  withoutThumbnails,
} from './job.js';

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
    expect(JSON.stringify(data)).not.toContain('jpegThumbnail');
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
    const data = jobFromJournal('1101000002', 'whatsapp', {
      type: 'outgoing',
      idMessage: 'M1',
      timestamp: 1705466692,
      typeMessage: 'documentMessage',
      chatId: '1@c.us',
      downloadUrl: 'https://x.storage.yandexcloud.net/d.pdf',
      fileName: 'd.pdf',
      jpegThumbnail: 'AAAA',
    });
    expect(data).toMatchObject({
      source: 'journal',
      typeWebhook: 'outgoingMessageReceived',
      fileName: 'd.pdf',
    });
    expect(JSON.stringify(data)).not.toContain('AAAA');
  });

  it('strips thumbnails at any depth and nothing else', () => {
    expect(
      withoutThumbnails({ a: [{ jpegThumbnail: 'x', b: 1 }], jpegThumbnail: 'y', c: null }),
    ).toEqual({ a: [{ b: 1 }], c: null });
  });
});
