import { describe, expect, it } from 'vitest';
import { carriedText, messageText, referenceOf } from './message-content.js';

describe('referenceOf', () => {
  it('names the message an edit, deletion, poll update, reaction or reply changes', () => {
    expect(
      referenceOf({
        typeMessage: 'editedMessage',
        editedMessageData: { textMessage: 'New', stanzaId: 'A' },
      }),
    ).toEqual({ stanzaId: 'A', relation: 'edit' });
    expect(
      referenceOf({ typeMessage: 'deletedMessage', deletedMessageData: { stanzaId: 'B' } }),
    ).toEqual({ stanzaId: 'B', relation: 'delete' });
    expect(
      referenceOf({ typeMessage: 'pollUpdateMessage', pollMessageData: { stanzaId: 'C' } }),
    ).toEqual({ stanzaId: 'C', relation: 'pollUpdate' });
    expect(
      referenceOf({
        typeMessage: 'reactionMessage',
        extendedTextMessageData: { text: '👍' },
        quotedMessage: { stanzaId: 'D' },
      }),
    ).toEqual({ stanzaId: 'D', relation: 'reaction' });
    expect(referenceOf({ typeMessage: 'quotedMessage', quotedMessage: { stanzaId: 'E' } })).toEqual(
      { stanzaId: 'E', relation: 'reply' },
    );
    expect(referenceOf({ typeMessage: 'textMessage' })).toBeUndefined();
    expect(referenceOf({ typeMessage: 'deletedMessage', deletedMessageData: 7 })).toBeUndefined();
  });
});

describe('messageText', () => {
  it('reads the text of each documented type', () => {
    expect(
      messageText({ typeMessage: 'textMessage', textMessageData: { textMessage: 'hi' } }),
    ).toBe('hi');
    expect(
      messageText({ typeMessage: 'extendedTextMessage', extendedTextMessageData: { text: 'x' } }),
    ).toBe('x');
    expect(
      messageText({
        typeMessage: 'editedMessage',
        editedMessageData: { textMessage: 'New', stanzaId: 'A' },
      }),
    ).toBe('New');
    expect(
      messageText({
        typeMessage: 'pollMessage',
        pollMessageData: { name: 'Lunch?', options: [{ optionName: 'yes' }, { optionName: 'no' }] },
      }),
    ).toBe('Lunch? [yes | no]');
    expect(
      messageText({
        typeMessage: 'locationMessage',
        locationMessageData: { nameLocation: 'Office', latitude: 1.5, longitude: 2 },
      }),
    ).toBe('Office · 1.5,2');
    expect(messageText({ typeMessage: 'imageMessage', fileMessageData: { caption: 'look' } })).toBe(
      'look',
    );
    expect(
      messageText({ typeMessage: 'buttonsResponseMessage', buttonsResponseMessage: {} }),
    ).toBeUndefined();
    expect(
      messageText({
        typeMessage: 'listResponseMessage',
        listResponseMessageData: { title: 'Option 2' },
      }),
    ).toBe('Option 2');
  });
});

describe('carriedText', () => {
  it('reads the named message as a reply, reaction or poll update carries it', () => {
    expect(
      carriedText({
        typeMessage: 'reactionMessage',
        extendedTextMessageData: { text: '👍' },
        quotedMessage: { stanzaId: 'D', typeMessage: 'textMessage', textMessage: 'see you' },
      }),
    ).toBe('see you');
    expect(
      carriedText({
        typeMessage: 'quotedMessage',
        quotedMessage: { stanzaId: 'E', typeMessage: 'imageMessage', caption: 'the view' },
      }),
    ).toBe('the view');
    expect(
      carriedText({
        typeMessage: 'pollUpdateMessage',
        pollMessageData: { stanzaId: 'P', name: 'Lunch?' },
      }),
    ).toBe('Lunch?');
    expect(
      carriedText({
        typeMessage: 'editedMessage',
        editedMessageData: { textMessage: 'x', stanzaId: 'A' },
      }),
    ).toBeUndefined();
    expect(
      carriedText({ typeMessage: 'deletedMessage', deletedMessageData: { stanzaId: 'B' } }),
    ).toBeUndefined();
  });
});
