import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { keepMessage, readKeptMessage } from './kept-message.js';

describe('kept message', () => {
  it('gives back the body without its thumbnails, at any depth, and nothing else changed', () => {
    const body = {
      a: [{ jpegThumbnail: 'x', b: 1 }],
      jpegThumbnail: 'y',
      c: null,
      text: 'Счёт №1234 😀',
    };
    expect(readKeptMessage(keepMessage(body))).toEqual({
      a: [{ b: 1 }],
      c: null,
      text: 'Счёт №1234 😀',
    });
  });

  it('round-trips any JSON object without thumbnails', () => {
    // Strings mixed from what the packing replaces or escapes, so that they meet in every
    // order; keys the table knows, with values of every type.
    const special = fc.constantFrom(
      '~',
      '~0',
      "'",
      '"',
      '\\',
      ',"wid":"',
      '","chatId":"',
      '{',
      '@c.us',
      'false',
      '\n',
    );
    const text = fc
      .array(fc.oneof(fc.string({ unit: 'grapheme' }), special), { maxLength: 6 })
      .map((parts) => parts.join(''));
    const key = fc.oneof(
      text,
      fc.constantFrom('typeWebhook', 'idInstance', 'wid', 'chatId', 'type'),
    );
    const value = fc.oneof(
      text,
      fc.jsonValue(),
      fc.dictionary(key, fc.oneof(text, fc.jsonValue())),
    );
    fc.assert(
      fc.property(fc.dictionary(key, value), (raw) => {
        // What the receiver keeps is what JSON can carry (no -0, no undefined).
        const body = JSON.parse(JSON.stringify(raw)) as Record<string, unknown>;
        delete body.jpegThumbnail;
        const back = readKeptMessage(keepMessage(body));
        expect(JSON.stringify(back)).toBe(
          JSON.stringify(body, (k, v: unknown) => (k === 'jpegThumbnail' ? undefined : v)),
        );
      }),
      { numRuns: 300 },
    );
  });

  it('packs a realistic document webhook to under 60 % of its JSON', () => {
    const body = {
      typeWebhook: 'incomingMessageReceived',
      instanceData: { idInstance: 1101000001, wid: '79876543210@c.us', typeInstance: 'whatsapp' },
      timestamp: 1795794095,
      idMessage: 'BAE5000000000001',
      senderData: {
        chatId: '79001234567@c.us',
        sender: '79001234567@c.us',
        chatName: 'Иван Петров',
        senderName: 'Иван Петров',
        senderContactName: 'Иван Петров',
      },
      messageData: {
        typeMessage: 'documentMessage',
        fileMessageData: {
          downloadUrl: 'https://sw-media-1101.storage.yandexcloud.net/1101000001/3f8e2c1a.pdf',
          caption: 'Счёт на оплату №1234 за ноябрь',
          fileName: 'Счёт_на_оплату_1234.pdf',
          mimeType: 'application/pdf',
          isForwarded: false,
          forwardingScore: 0,
        },
      },
    };
    const json = Buffer.byteLength(JSON.stringify(body));
    expect(keepMessage(body).length).toBeLessThan(json * 0.6);
  });

  it('stores no double quote or backslash for BullMQ to escape in a body without them', () => {
    const packed = keepMessage({
      typeWebhook: 'incomingMessageReceived',
      senderData: { chatId: '79001234567@c.us', chatName: "O'Brien ~ Co" },
    });
    expect(packed).not.toMatch(/["\\]/);
    expect(JSON.stringify(packed)).toHaveLength(packed.length + 2);
  });

  it('reads jobs queued before: unpacked, and deflated with the d1 dictionary', () => {
    expect(readKeptMessage({ idMessage: 'M1' })).toEqual({ idMessage: 'M1' });
    // Packed by the d1 code (commit 1a38ef3) from a body whose thumbnail it dropped.
    expect(readKeptMessage('d1:IyG6kILW11CJGt5G8tCFhRfbL0682KSgHmiorgfyBNBxAA==')).toEqual({
      typeWebhook: 'incomingMessageReceived',
      idMessage: 'M1',
      messageData: {
        typeMessage: 'documentMessage',
        fileMessageData: { fileName: "Счёт 'Q1'.pdf" },
      },
    });
  });

  it('refuses what is not a packed body', () => {
    expect(readKeptMessage('{"idMessage":"M1"}')).toBeUndefined();
    expect(readKeptMessage('d1:not deflate')).toBeUndefined();
    expect(readKeptMessage('t1:{~"x~":1}')).toBeUndefined();
    expect(readKeptMessage('t1:{')).toBeUndefined();
    expect(readKeptMessage(keepMessage([1, 2]))).toBeUndefined();
  });
});
