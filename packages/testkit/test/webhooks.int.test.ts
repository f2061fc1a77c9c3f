import { messageWebhookSchema, otherWebhookSchema } from '@archiver/greenapi';
import { describe, expect, it } from 'vitest';
import {
  deviceInfoWebhook,
  fileWebhook,
  incomingCallWebhook,
  journalItemFrom,
  outgoingMessageStatusWebhook,
  quotaExceededWebhook,
  stateInstanceChangedWebhook,
  statusInstanceChangedWebhook,
  textWebhook,
} from '../src/index.js';

describe('webhook builders', () => {
  it('builds the documented WhatsApp document sample (docs/greenapi.md §4.1)', () => {
    const hook = fileWebhook({
      kind: 'whatsapp',
      typeMessage: 'documentMessage',
      idInstance: '1101000001',
      wid: '71231234567@c.us',
      chatId: '71234567890@c.us',
      idMessage: '02392146E5104CE93C',
      timestamp: 1705473041,
      downloadUrl: 'https://example.test/f.mp3',
      fileName: 'sample-6s.mp3',
      mimeType: 'audio/mpeg',
    });
    expect(JSON.parse(JSON.stringify(hook))).toEqual({
      typeWebhook: 'incomingMessageReceived',
      instanceData: { idInstance: 1101000001, wid: '71231234567@c.us', typeInstance: 'whatsapp' },
      timestamp: 1705473041,
      idMessage: '02392146E5104CE93C',
      senderData: {
        chatId: '71234567890@c.us',
        chatName: 'Green API',
        sender: '71234567890@c.us',
        senderName: 'Green API',
        senderContactName: 'Green API',
      },
      messageData: {
        typeMessage: 'documentMessage',
        fileMessageData: {
          downloadUrl: 'https://example.test/f.mp3',
          caption: '',
          fileName: 'sample-6s.mp3',
          jpegThumbnail: '',
          mimeType: 'audio/mpeg',
          forwardingScore: 0,
          isForwarded: false,
        },
      },
    });
    expect(messageWebhookSchema.safeParse(hook).success).toBe(true);
  });

  it('builds MAX bodies: typeInstance v3, numeric-string chats, sender phone, JSON integer id', () => {
    const hook = fileWebhook({
      kind: 'max',
      typeMessage: 'imageMessage',
      idInstance: '3100000000',
      chatId: '-10000000000000',
      idMessage: '115206687571465794',
      timestamp: 1588091580,
      downloadUrl: 'https://example.test/i.webp',
      mimeType: 'image/webp',
    });
    expect(JSON.stringify(hook)).toContain('"idInstance":3100000000');
    expect(hook.instanceData.typeInstance).toBe('v3');
    expect(hook.senderData).toMatchObject({
      chatId: '-10000000000000',
      sender: '10000000',
      senderPhoneNumber: 79991112233,
    });
    expect(hook.idMessage).toBe('115206687571465794');
    expect(messageWebhookSchema.safeParse(hook).success).toBe(true);
    expect(() =>
      fileWebhook({
        ...hook,
        kind: 'max',
        typeMessage: 'imageMessage',
        idInstance: '99999999999999999',
        chatId: '1',
        downloadUrl: '',
      }),
    ).toThrow(/JSON integer/);
  });

  it('makes outgoing senders the instance account and stickers caption-less', () => {
    const hook = fileWebhook({
      kind: 'whatsapp',
      typeWebhook: 'outgoingAPIMessageReceived',
      typeMessage: 'stickerMessage',
      idInstance: '1234',
      chatId: '79001234568@c.us',
      idMessage: 'F7AEC1B7086ECDC7E6E45923F5EDB825',
      timestamp: 1588091580,
      downloadUrl: 'https://example.test/s.webp',
    });
    expect(hook.senderData.sender).toBe('11001234567@c.us');
    expect(hook.messageData.fileMessageData).not.toHaveProperty('caption');
    expect(hook.messageData.fileMessageData).toMatchObject({
      mimeType: 'image/webp',
      isAnimated: false,
    });
    expect(journalItemFrom(hook)).toMatchObject({
      type: 'outgoing',
      sendByApi: true,
      typeMessage: 'stickerMessage',
      chatId: '79001234568@c.us',
    });
  });

  it('builds the non-file types the receiver must acknowledge', () => {
    const base = { idInstance: '1234', timestamp: 1586700802 };
    const hooks = [
      outgoingMessageStatusWebhook({
        ...base,
        kind: 'whatsapp',
        chatId: '71234567890@c.us',
        idMessage: 'X',
        status: 'noAccount',
        description: 'SWE004: 1000',
      }),
      stateInstanceChangedWebhook({ ...base, kind: 'max', stateInstance: 'notAuthorized' }),
      incomingCallWebhook({ ...base, from: '79001234500@c.us', idMessage: 'C' }),
      quotaExceededWebhook({ kind: 'max', idInstance: '3100000000' }),
      deviceInfoWebhook(base),
      statusInstanceChangedWebhook({ ...base, statusInstance: 'online' }),
    ];
    expect(hooks.map((h) => h.typeWebhook)).toEqual([
      'outgoingMessageStatus',
      'stateInstanceChanged',
      'incomingCall',
      'quotaExceeded',
      'deviceInfo',
      'statusInstanceChanged',
    ]);
    expect(hooks[1]?.instanceData.wid).toBe('');
    for (const hook of hooks) expect(otherWebhookSchema.safeParse(hook).success).toBe(true);
    const text = textWebhook({
      kind: 'whatsapp',
      idInstance: '1234',
      chatId: '1@c.us',
      idMessage: 'T',
      timestamp: 1,
      textMessage: 'hi',
    });
    expect(messageWebhookSchema.safeParse(text).success).toBe(true);
  });
});
