import { describe, expect, it } from 'vitest';
import { classifyWebhook, kindFromTypeInstance, peekIdInstance } from './classify.js';

const waDocument = {
  typeWebhook: 'incomingMessageReceived',
  instanceData: { idInstance: 1101000001, wid: '71231234567@c.us', typeInstance: 'whatsapp' },
  timestamp: 1705473041,
  idMessage: '02392146E5104CE93C',
  senderData: { chatId: '71234567890@c.us', sender: '71234567890@c.us', chatName: 'Green API' },
  messageData: {
    typeMessage: 'documentMessage',
    fileMessageData: {
      downloadUrl: 'https://sw-media-1101.storage.yandexcloud.net/1101000001/f3f4.mp3',
      caption: '',
      fileName: 'sample-6s.mp3',
      jpegThumbnail: '',
      mimeType: 'audio/mpeg',
      forwardingScore: 0,
      isForwarded: false,
    },
  },
};

const maxImage = {
  typeWebhook: 'incomingMessageReceived',
  instanceData: { idInstance: 3100000000, wid: '79991234567@c.us', typeInstance: 'v3' },
  timestamp: 1588091580,
  idMessage: '115206687571465794',
  senderData: { chatId: '-10000000000000', sender: '10000000', senderPhoneNumber: 79991112233 },
  messageData: {
    typeMessage: 'imageMessage',
    fileMessageData: {
      downloadUrl: 'https://i.oneme.ru/i?r=abc',
      isAnimated: true,
      mimeType: 'image/webp',
    },
  },
  somethingNew: { tolerated: true },
};

describe('classifyWebhook', () => {
  it('recognises a WhatsApp document as a file', () => {
    const result = classifyWebhook(waDocument);
    expect(result.kind).toBe('file');
    if (result.kind !== 'file') return;
    expect(result.webhook.instanceData.idInstance).toBe('1101000001');
    expect(result.file.fileName).toBe('sample-6s.mp3');
    expect(result.tooLarge).toBe(false);
  });

  it('recognises a MAX image and keeps its large id a string; extra fields are tolerated', () => {
    const result = classifyWebhook(maxImage);
    expect(result.kind).toBe('file');
    if (result.kind !== 'file') return;
    expect(result.webhook.idMessage).toBe('115206687571465794');
    expect(kindFromTypeInstance(result.webhook.instanceData.typeInstance)).toBe('max');
  });

  it.each(['outgoingMessageReceived', 'outgoingAPIMessageReceived'])(
    'accepts %s files',
    (typeWebhook) => {
      expect(classifyWebhook({ ...waDocument, typeWebhook }).kind).toBe('file');
    },
  );

  it('marks {{SWE002}} as too large', () => {
    const body = structuredClone(waDocument);
    body.messageData.fileMessageData.downloadUrl = '{{SWE002}}';
    const result = classifyWebhook(body);
    expect(result.kind === 'file' && result.tooLarge).toBe(true);
  });

  it('keeps every other message as a message, known typeMessage or not', () => {
    for (const messageData of [
      { typeMessage: 'textMessage', textMessageData: { textMessage: 'hi' } },
      { typeMessage: 'editedMessage', editedMessageData: { textMessage: 'x', stanzaId: 'A' } },
      { typeMessage: 'deletedMessage', deletedMessageData: { stanzaId: 'A' } },
      { typeMessage: 'somethingNobodySawYet', somethingData: { n: 1 } },
    ]) {
      const result = classifyWebhook({ ...waDocument, messageData });
      expect(result.kind).toBe('message');
      if (result.kind === 'message') expect(result.webhook.messageData).toEqual(messageData);
    }
  });

  it('keeps statuses and calls as events of their chat, the rest of the instance', () => {
    const status = {
      typeWebhook: 'outgoingMessageStatus',
      chatId: '71234567890@c.us',
      instanceData: { idInstance: 1234, wid: '1@c.us', typeInstance: 'whatsapp' },
      timestamp: 1586700802,
      idMessage: '3EB0608D6A2901063D63',
      status: 'noAccount',
    };
    expect(classifyWebhook(status)).toMatchObject({ kind: 'event', chatId: '71234567890@c.us' });
    const call = { ...status, typeWebhook: 'incomingCall', chatId: undefined, from: '7@c.us' };
    expect(classifyWebhook(call)).toMatchObject({ kind: 'event', chatId: '7@c.us' });
    const quota = {
      typeWebhook: 'quotaExceeded',
      instanceData: { idInstance: 3100000000 },
      quotaData: {},
    };
    expect(classifyWebhook(quota)).toMatchObject({ kind: 'event', chatId: undefined });
    // A chat of the wrong type is a shape nobody documented: quarantined, not filed anywhere.
    expect(classifyWebhook({ ...status, chatId: 42 }).kind).toBe('unrecognised');
  });

  it('calls unknown types, broken shapes and file types without payload unrecognised', () => {
    expect(
      classifyWebhook({ typeWebhook: 'somethingNew', instanceData: { idInstance: 1 } }),
    ).toMatchObject({
      kind: 'unrecognised',
      idInstance: '1',
    });
    expect(classifyWebhook({ ...waDocument, idMessage: 42 })).toMatchObject({
      kind: 'unrecognised',
      reason: expect.stringContaining('idMessage'),
    });
    expect(
      classifyWebhook({ ...waDocument, messageData: { typeMessage: 'imageMessage' } }).kind,
    ).toBe('unrecognised');
    expect(classifyWebhook([1, 2]).kind).toBe('unrecognised');
    expect(classifyWebhook(null).kind).toBe('unrecognised');
  });
});

describe('peekIdInstance', () => {
  it('reads numbers and digit strings only', () => {
    expect(peekIdInstance({ instanceData: { idInstance: 7105 } })).toBe('7105');
    expect(peekIdInstance({ instanceData: { idInstance: '7105' } })).toBe('7105');
    expect(peekIdInstance({ instanceData: { idInstance: '7105; drop' } })).toBeUndefined();
    expect(peekIdInstance({ instanceData: { idInstance: -1 } })).toBeUndefined();
    expect(peekIdInstance({})).toBeUndefined();
  });
});
