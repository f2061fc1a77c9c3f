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

  it('gives back any body as received, apart from thumbnails and the downloadUrl query string', () => {
    // Strings mixed from what the packing replaces or escapes, so that they meet in every
    // order, with any unicode around them.
    const special = fc.constantFrom(
      '~',
      '~~',
      '~0',
      "~'",
      "'",
      '"',
      '\\',
      ',"wid":"',
      '","chatId":"',
      '{"idInstance":',
      '{',
      '@c.us',
      'whatsapp',
      'false',
      '\n',
      '\u0000',
      '?',
      '#',
    );
    const text = fc
      .array(fc.oneof(fc.string({ unit: 'grapheme' }), fc.string({ unit: 'binary' }), special), {
        maxLength: 6,
      })
      .map((parts) => parts.join(''));
    const url = fc
      .tuple(fc.webUrl(), fc.option(text), fc.option(text))
      .map(
        ([u, query, fragment]) =>
          `${u}${query === null ? '' : `?${query}`}${fragment === null ? '' : `#${fragment}`}`,
      );
    const key = fc.oneof(
      text,
      fc.constantFrom(
        'typeWebhook',
        'idInstance',
        'chatId',
        'type',
        'jpegThumbnail',
        'downloadUrl',
      ),
    );
    const { tree } = fc.letrec((tie) => ({
      tree: fc.oneof(
        { depthSize: 'small', withCrossShrink: true },
        text,
        url,
        fc.integer(),
        fc.maxSafeInteger(),
        fc.double({ noNaN: true, noDefaultInfinity: true }),
        fc.boolean(),
        fc.constant(null),
        fc.array(tie('tree'), { maxLength: 4 }),
        fc.dictionary(key, tie('tree'), { maxKeys: 5 }),
        fc.record({ downloadUrl: url, jpegThumbnail: fc.base64String() }),
      ),
    }));
    const webhook = fc.record({
      typeWebhook: fc.constantFrom('incomingMessageReceived', 'outgoingMessageReceived'),
      instanceData: fc.record({ idInstance: fc.nat(), wid: text }),
      timestamp: fc.nat(),
      idMessage: text,
      senderData: fc.dictionary(key, tree, { maxKeys: 4 }),
      messageData: fc.record({
        typeMessage: text,
        fileMessageData: fc.record({ downloadUrl: url, jpegThumbnail: fc.base64String() }),
        extra: tree,
      }),
    });
    const body = fc.oneof(webhook, fc.dictionary(key, tree));
    fc.assert(
      fc.property(body, (generated) => {
        // A body as received is what JSON.parse made of the request (no -0, no undefined).
        const received = JSON.parse(JSON.stringify(generated)) as Record<string, unknown>;
        expect(readKeptMessage(keepMessage(received))).toStrictEqual(asKept(received));
      }),
      { numRuns: 500 },
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

  it('cuts every downloadUrl before its query string and fragment, and only those', () => {
    const kept = readKeptMessage(
      keepMessage({
        downloadUrl: 'https://s.example/a.pdf?X-Amz-Signature=secret#x',
        nested: [{ downloadUrl: 'https://s.example/b.pdf#frag', url: 'https://s.example/c?q=1' }],
        marker: { downloadUrl: '{{SWE002}}' },
        notText: { downloadUrl: 5 },
      }),
    );
    expect(kept).toEqual({
      downloadUrl: 'https://s.example/a.pdf',
      nested: [{ downloadUrl: 'https://s.example/b.pdf', url: 'https://s.example/c?q=1' }],
      marker: { downloadUrl: '{{SWE002}}' },
      notText: { downloadUrl: 5 },
    });
  });

  it('refuses what is not a packed body', () => {
    expect(readKeptMessage('{"idMessage":"M1"}')).toBeUndefined();
    // Deflated bodies (`d1:`) never shipped: no reader for them.
    expect(readKeptMessage('d1:IyG6kILW11CJGt5G8tCFhRfbL0682KSgHmiorgfyBNBxAA==')).toBeUndefined();
    expect(readKeptMessage('t1:{~"x~":1}')).toBeUndefined();
    expect(readKeptMessage('t1:{')).toBeUndefined();
    expect(readKeptMessage(keepMessage([1, 2]))).toBeUndefined();
  });
});

/** What the record keeps of `value`, written out apart from the code under test. */
function asKept(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(asKept);
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(
    Object.entries(value)
      .filter(([k]) => k !== 'jpegThumbnail')
      .map(([k, v]) => [
        k,
        k === 'downloadUrl' && typeof v === 'string' ? v.replace(/[?#][\s\S]*$/, '') : asKept(v),
      ]),
  );
}
