import { randomBytes } from 'node:crypto';
import { messageWebhook, type MessageWebhookType } from '@archiver/testkit';

/**
 * The demo's conversation around its files, in the WhatsApp private chat: texts both ways,
 * an edit, a deletion, a reaction and a reply, so the review page (and an export) has an
 * edit against its original, a deleted text still shown and a reaction on its message to
 * look at, beside the archived image, PDF and voice note.
 */
export type DemoText = {
  idMessage: string;
  timestamp: number;
  /** What the review page shows for it. */
  story: string;
  body: Record<string, unknown>;
};

export const DEMO_CHAT = '79001234567@c.us';

export function demoConversation(
  instance: { idInstance: string; kind: 'whatsapp' },
  around: number,
): DemoText[] {
  const out: DemoText[] = [];
  // Fresh ids every run, as the files get: a second demo is not a duplicate of the first.
  const id = () => randomBytes(16).toString('hex').toUpperCase();
  const add = (
    at: number,
    story: string,
    messageData: { typeMessage: string } & Record<string, unknown>,
    typeWebhook: MessageWebhookType = 'incomingMessageReceived',
  ) => {
    const idMessage = id();
    const timestamp = around + at;
    const body = messageWebhook({
      ...instance,
      typeWebhook,
      chatId: DEMO_CHAT,
      idMessage,
      timestamp,
      senderName: typeWebhook === 'incomingMessageReceived' ? 'Maria Client' : 'Archive Demo',
      messageData,
    });
    out.push({ idMessage, timestamp, story, body });
    return idMessage;
  };
  const text = (t: string) => ({ typeMessage: 'textMessage', textMessageData: { textMessage: t } });

  const ask = add(-120, 'text', text('Hi! Could you send me the quarterly report?'));
  add(-110, 'text, sent from the phone', text('Sure, here it comes'), 'outgoingMessageReceived');
  const price = add(30, 'text', text('The price in the contract is 100 EUR'));
  add(40, 'edit of the price', {
    typeMessage: 'editedMessage',
    editedMessageData: { stanzaId: price, textMessage: 'The price in the contract is 120 EUR' },
  });
  const oops = add(50, 'text', text('Ignore the beach photo, wrong chat'));
  add(60, 'deletion of that text', {
    typeMessage: 'deletedMessage',
    deletedMessageData: { stanzaId: oops },
  });
  add(
    70,
    'reaction on the price',
    {
      typeMessage: 'reactionMessage',
      extendedTextMessageData: { text: '👍' },
      quotedMessage: {
        stanzaId: price,
        participant: DEMO_CHAT,
        typeMessage: 'textMessage',
        textMessage: 'The price in the contract is 120 EUR',
      },
    },
    'outgoingMessageReceived',
  );
  add(80, 'reply', {
    typeMessage: 'quotedMessage',
    extendedTextMessageData: { text: 'Thanks, got it all', stanzaId: ask, participant: DEMO_CHAT },
    quotedMessage: {
      stanzaId: ask,
      participant: DEMO_CHAT,
      typeMessage: 'textMessage',
      textMessage: 'Hi! Could you send me the quarterly report?',
    },
  });
  return out;
}
