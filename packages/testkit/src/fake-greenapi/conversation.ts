import {
  deviceInfoWebhook,
  incomingCallWebhook,
  outgoingMessageStatusWebhook,
  quotaExceededWebhook,
  stateInstanceChangedWebhook,
  statusInstanceChangedWebhook,
} from './service-webhooks.js';
import { messageWebhook, type InstanceRef, type MessageWebhookType } from './webhooks.js';

/**
 * A conversation of every kind of body the archiver records, shaped like the documented
 * samples (docs/greenapi.md §12): texts, an extended text, a quoted reply, a reaction (to a
 * message deleted before it), a poll with its votes changing, a location, a contact, buttons,
 * a list, a template and their replies, a group invite, interactive buttons and their reply
 * (in both documented spellings), an edit and an edit of that edit, an edit and a deletion of
 * outgoing messages, deletions (of a text and of a file message), an unknown typeMessage, and
 * the chat's status (sent, delivered, read, failed), call and block events, then the
 * instance's own. Ids are unique within the call (`tag` keeps two corpora apart). The file
 * message it deletes is `fileId`, left to the caller to send, as are the files themselves
 * (each file type is a webhook with `fileMessageData`; docs/greenapi.md §3).
 */
export type ConversationEntry = {
  body: Record<string, unknown>;
  /** What it is, for assertions: a message's typeMessage or an event's typeWebhook. */
  label: string;
  record: 'message' | 'event';
  idMessage?: string;
  /** Undefined: an event of the instance. */
  chatId?: string;
};

export function conversationCorpus(
  ref: InstanceRef,
  o: { chatId: string; timestamp: number; tag: string; fileId?: string },
): ConversationEntry[] {
  const out: ConversationEntry[] = [];
  let t = o.timestamp;
  const id = (n: string) => `${o.tag}${n}`;
  const msg = (
    n: string,
    messageData: { typeMessage: string } & Record<string, unknown>,
    typeWebhook: MessageWebhookType = 'incomingMessageReceived',
  ) => {
    const idMessage = id(n);
    const body = messageWebhook({
      ...ref,
      typeWebhook,
      chatId: o.chatId,
      idMessage,
      timestamp: (t += 7),
      messageData,
    });
    out.push({
      body,
      label: messageData.typeMessage,
      record: 'message',
      idMessage,
      chatId: o.chatId,
    });
    return idMessage;
  };
  const quoted = (stanzaId: string, text = 'earlier text') => ({
    stanzaId,
    participant: o.chatId,
    typeMessage: 'textMessage',
    textMessage: text,
  });

  const hello = msg('T1', {
    typeMessage: 'textMessage',
    textMessageData: { textMessage: 'Hello, contract attached soon' },
  });
  msg(
    'T2',
    { typeMessage: 'textMessage', textMessageData: { textMessage: 'We agree to 12 500 EUR' } },
    'outgoingMessageReceived',
  );
  msg(
    'T3',
    { typeMessage: 'textMessage', textMessageData: { textMessage: 'Sent by the API' } },
    'outgoingAPIMessageReceived',
  );
  // The account's own message edited, and another of its messages deleted.
  msg(
    'E3',
    {
      typeMessage: 'editedMessage',
      editedMessageData: { textMessage: 'We agree to 12 000 EUR', stanzaId: id('T2') },
    },
    'outgoingMessageReceived',
  );
  const unsent = msg(
    'T4',
    { typeMessage: 'textMessage', textMessageData: { textMessage: 'Wrong chat, sorry' } },
    'outgoingMessageReceived',
  );
  msg(
    'D3',
    { typeMessage: 'deletedMessage', deletedMessageData: { stanzaId: unsent } },
    'outgoingMessageReceived',
  );
  msg('X1', {
    typeMessage: 'extendedTextMessage',
    extendedTextMessageData: {
      text: 'https://example.com/terms',
      description: 'Terms',
      title: 'Example',
      previewType: 'None',
      jpegThumbnail: 'AAAABASE64THUMB',
      forwardingScore: 0,
      isForwarded: false,
    },
  });
  msg('Q1', {
    typeMessage: 'quotedMessage',
    extendedTextMessageData: { text: 'Yes, that one', stanzaId: hello, participant: o.chatId },
    quotedMessage: quoted(hello, 'Hello, contract attached soon'),
  });
  const edited = msg('E0', {
    typeMessage: 'textMessage',
    textMessageData: { textMessage: 'Price is 100' },
  });
  msg('E1', {
    typeMessage: 'editedMessage',
    editedMessageData: { textMessage: 'Price is 120', stanzaId: edited },
  });
  msg('E2', {
    typeMessage: 'editedMessage',
    editedMessageData: { textMessage: 'Price is 150', stanzaId: edited },
  });
  const doomed = msg('D0', {
    typeMessage: 'textMessage',
    textMessageData: { textMessage: 'I never said that' },
  });
  msg('D1', { typeMessage: 'deletedMessage', deletedMessageData: { stanzaId: doomed } });
  msg('R1', {
    typeMessage: 'reactionMessage',
    extendedTextMessageData: { text: '👍' },
    quotedMessage: quoted(doomed, 'I never said that'),
  });
  if (o.fileId) {
    msg('D2', { typeMessage: 'deletedMessage', deletedMessageData: { stanzaId: o.fileId } });
  }
  const poll = msg(
    'P0',
    {
      typeMessage: 'pollMessage',
      pollMessageData: {
        name: 'Sign today?',
        options: [{ optionName: 'Yes' }, { optionName: 'No' }],
        multipleAnswers: false,
      },
    },
    'outgoingAPIMessageReceived',
  );
  const votes = (yes: string[], no: string[]) => ({
    typeMessage: 'pollUpdateMessage',
    pollMessageData: {
      stanzaId: poll,
      name: 'Sign today?',
      votes: [
        { optionName: 'Yes', optionVoters: yes },
        { optionName: 'No', optionVoters: no },
      ],
      multipleAnswers: false,
    },
  });
  msg('P1', votes([o.chatId], []));
  msg('P2', votes([], [o.chatId]));
  msg('L1', {
    typeMessage: 'locationMessage',
    locationMessageData: {
      nameLocation: 'Office',
      address: 'Main st 1',
      jpegThumbnail: 'LOCTHUMB',
      latitude: 55.7522,
      longitude: 37.6156,
    },
  });
  msg('C1', {
    typeMessage: 'contactMessage',
    contactMessageData: {
      displayName: 'Lawyer',
      vcard: 'BEGIN:VCARD\nVERSION:3.0\nFN:Lawyer\nEND:VCARD',
    },
  });
  msg('C2', {
    typeMessage: 'contactsArrayMessage',
    messageData: [{ displayName: 'A', vcard: 'BEGIN:VCARD\nEND:VCARD' }],
  });
  msg(
    'B1',
    {
      typeMessage: 'buttonsMessage',
      buttonsMessage: {
        contentText: 'Choose',
        footer: 'f',
        buttons: [{ buttonId: '1', buttonText: 'One' }],
      },
    },
    'outgoingAPIMessageReceived',
  );
  msg('B2', {
    typeMessage: 'buttonsResponseMessage',
    buttonsResponseMessage: {
      stanzaId: id('B1'),
      selectedButtonId: '1',
      selectedButtonText: 'One',
    },
  });
  msg(
    'B3',
    {
      typeMessage: 'listMessage',
      listMessage: {
        contentText: 'Pick',
        title: 'Menu',
        sections: [{ title: 'S', rows: [{ rowId: 'r', title: 'Row' }] }],
      },
    },
    'outgoingAPIMessageReceived',
  );
  msg('B4', {
    typeMessage: 'listResponseMessage',
    listResponseMessage: { title: 'Row', listType: 1, singleSelectReply: 'r', stanzaId: id('B3') },
  });
  msg(
    'B5',
    {
      typeMessage: 'templateMessage',
      templateMessage: {
        contentText: 'Template',
        buttons: [{ index: 1, urlButton: { displayText: 'Go', url: 'https://x' } }],
      },
    },
    'outgoingAPIMessageReceived',
  );
  msg('B6', {
    typeMessage: 'templateButtonsReplyMessage',
    templateButtonReplyMessage: {
      stanzaId: id('B5'),
      selectedIndex: 1,
      selectedId: '1',
      selectedDisplayText: 'Go',
    },
  });
  msg('G1', {
    typeMessage: 'groupInviteMessage',
    groupInviteMessageData: {
      groupJid: '120363000000000000@g.us',
      inviteCode: 'abc',
      groupName: 'Deal room',
      inviteExpiration: 1735000000,
      caption: 'Join',
      jpegThumbnail: 'GTHUMB',
    },
  });
  msg(
    'I1',
    {
      typeMessage: 'interactiveButtons',
      interactiveButtons: {
        titleText: 'Menu',
        contentText: 'Pick one',
        footerText: '',
        buttons: [{ type: 'reply', buttonId: '1', buttonText: 'A' }],
      },
    },
    'outgoingAPIMessageReceived',
  );
  msg('I2', {
    typeMessage: 'interactiveButtonsReply',
    interactiveButtonsReply: { stanzaId: id('I1'), selectedId: '1', selectedDisplayText: 'A' },
  });
  // The docs page spells it without the s as well (docs/greenapi.md §12).
  msg('I3', {
    typeMessage: 'interactiveButtonReply',
    interactiveButtonReply: { stanzaId: id('I1'), selectedId: '1', selectedDisplayText: 'A' },
  });
  msg('U1', {
    typeMessage: 'holographicMessage',
    holographicMessageData: {
      hologram: 'never seen before',
      depth: 3,
      nested: { a: [1, '1', null, true] },
    },
  });

  const ev = (body: Record<string, unknown>, chatId: string | undefined) =>
    out.push({
      body,
      label: String(body.typeWebhook),
      record: 'event',
      chatId,
      idMessage: typeof body.idMessage === 'string' ? body.idMessage : undefined,
    });
  const status = (idMessage: string, value: 'sent' | 'delivered' | 'read' | 'failed') =>
    ev(
      outgoingMessageStatusWebhook({
        ...ref,
        chatId: o.chatId,
        idMessage,
        timestamp: (t += 3),
        status: value,
        ...(value === 'failed' ? { description: 'message was not delivered' } : {}),
      }),
      o.chatId,
    );
  status(id('T3'), 'sent');
  status(id('T3'), 'delivered');
  status(id('B1'), 'failed');
  status(id('T3'), 'read');
  if (ref.kind === 'whatsapp') {
    ev(
      incomingCallWebhook({
        ...ref,
        from: o.chatId,
        idMessage: id('CALL1'),
        timestamp: (t += 3),
        status: 'missed',
      }),
      o.chatId,
    );
    ev(
      {
        typeWebhook: 'outgoingCall',
        instanceData: incomingCallWebhook({ ...ref, from: o.chatId, idMessage: 'x', timestamp: 0 })
          .instanceData,
        timestamp: (t += 3),
        idMessage: id('CALL2'),
        from: o.chatId,
        isVideo: false,
        duration: 42,
        status: 'pickUp',
        participants: [{ participant: o.chatId, status: 'pickUp' }],
      },
      o.chatId,
    );
    // Deprecated, WhatsApp only; the body as the notifications page lists it (chatId and
    // the block's status; UNCONFIRMED beyond that).
    ev(
      {
        typeWebhook: 'incomingBlock',
        instanceData: incomingCallWebhook({ ...ref, from: o.chatId, idMessage: 'x', timestamp: 0 })
          .instanceData,
        timestamp: (t += 3),
        chatId: o.chatId,
        statusBlock: 'blocked',
      },
      o.chatId,
    );
    ev(
      statusInstanceChangedWebhook({ ...ref, timestamp: (t += 3), statusInstance: 'offline' }),
      undefined,
    );
    ev(deviceInfoWebhook({ ...ref, timestamp: (t += 3), battery: 15 }), undefined);
  }
  ev(
    stateInstanceChangedWebhook({ ...ref, timestamp: (t += 3), stateInstance: 'yellowCard' }),
    undefined,
  );
  ev(quotaExceededWebhook({ ...ref, timestamp: (t += 3) }), undefined);
  return out;
}
