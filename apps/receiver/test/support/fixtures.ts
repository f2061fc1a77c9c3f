/** Webhook bodies from docs/greenapi.md §4 (documented sample values). */

export const TOKENS = {
  whatsapp1: 'wa1-webhook-token-7c1f0e',
  shared: 'shared-webhook-token-93ab4d',
  global: 'global-webhook-token-51d2aa',
  api: 'api-token-instance-secret-0f9e',
} as const;

/** Instances: 1101000001 has its own token; 1101000002 and the MAX one share one. */
export const INSTANCES = [
  {
    idInstance: 1101000001,
    apiTokenInstance: TOKENS.api,
    apiUrl: 'https://1101.api.green-api.com',
    webhookToken: TOKENS.whatsapp1,
  },
  {
    idInstance: 1101000002,
    apiTokenInstance: TOKENS.api,
    apiUrl: 'https://1101.api.green-api.com',
    webhookToken: TOKENS.shared,
  },
  {
    idInstance: 3100000000,
    apiTokenInstance: TOKENS.api,
    apiUrl: 'https://3100.api.green-api.com',
    webhookToken: TOKENS.shared,
    kind: 'max',
  },
];

/** §4.1 WhatsApp incomingMessageReceived + documentMessage. */
export function whatsappDocument(overrides: { idMessage?: string; idInstance?: number } = {}) {
  return {
    typeWebhook: 'incomingMessageReceived',
    instanceData: {
      idInstance: overrides.idInstance ?? 1101000001,
      wid: '71231234567@c.us',
      typeInstance: 'whatsapp',
    },
    timestamp: 1705473041,
    idMessage: overrides.idMessage ?? '02392146E5104CE93C',
    senderData: {
      chatId: '71234567890@c.us',
      chatName: 'Green API',
      sender: '71234567890@c.us',
      senderName: 'Green API',
      senderContactName: 'Green API inContacts',
    },
    messageData: {
      typeMessage: 'documentMessage',
      fileMessageData: {
        downloadUrl:
          'https://sw-media-1101.storage.yandexcloud.net/1101000001/f3f4a306-b6a1-4a2a-bb29-a15b06752118.mp3',
        caption: '',
        fileName: 'sample-6s.mp3',
        jpegThumbnail: '',
        mimeType: 'audio/mpeg',
        forwardingScore: 0,
        isForwarded: false,
      },
    },
  };
}

/** §4.7 MAX incomingMessageReceived + imageMessage (with a base64 thumbnail). */
export function maxImage() {
  return {
    typeWebhook: 'incomingMessageReceived',
    instanceData: { idInstance: 3100000000, wid: '79991234567@c.us', typeInstance: 'v3' },
    timestamp: 1588091580,
    idMessage: '2755232962562',
    senderData: {
      chatId: '10000000',
      sender: '10000000',
      chatName: 'Ходабрыш Пробешёлов',
      senderName: 'Ходабрыш Пробешёлов',
      senderContactName: 'Ходабрыш Пробешёлов',
      senderPhoneNumber: 79991112233,
    },
    messageData: {
      typeMessage: 'imageMessage',
      fileMessageData: {
        downloadUrl:
          'https://sw-media-3100.storage.yandexcloud.net/3100000000/15697d2c-397c-4fd0-8e1a-8be95f753aae.webp',
        caption: '',
        fileName: '15697d2c-397c-4fd0-8e1a-8be95f753aae.webp',
        jpegThumbnail:
          'UklGRjoAAABXRUJQVlA4IC4AAACyAgCdASoCAAIALmk0mk0iIiIiIgBoSygABc6WWgAA/veff/0PP8bA//LwYAAA',
        isAnimated: true,
        mimeType: 'image/webp',
        forwardingScore: 0,
        isForwarded: false,
      },
    },
  };
}

/** §4.8 non-file types: answered 200, counted, never enqueued. */
export const OTHER_TYPES = {
  outgoingMessageStatus: {
    typeWebhook: 'outgoingMessageStatus',
    chatId: '71234567890@c.us',
    instanceData: { idInstance: 1101000001, wid: '11001234567@c.us', typeInstance: 'whatsapp' },
    timestamp: 1586700802,
    idMessage: '3EB0608D6A2901063D63',
    status: 'noAccount',
    description: 'SWE004: 1000',
    sendByApi: true,
  },
  stateInstanceChanged: {
    typeWebhook: 'stateInstanceChanged',
    instanceData: { idInstance: 1101000001, wid: '', typeInstance: 'whatsapp' },
    timestamp: 1586700802,
    stateInstance: 'notAuthorized',
  },
  incomingCall: {
    from: '79001234500@c.us',
    typeWebhook: 'incomingCall',
    instanceData: { idInstance: 1101000001, wid: '11001234567@c.us', typeInstance: 'whatsapp' },
    timestamp: 1617691757,
    idMessage: '104179EDB7F5328988D8834107EEBE50',
    status: 'offer',
  },
  quotaExceeded: {
    typeWebhook: 'quotaExceeded',
    instanceData: { idInstance: 3100000000, wid: '79991234567@c.us', typeInstance: 'v3' },
    quotaData: {
      method: 'correspondents',
      used: 3,
      total: 3,
      status: 'CORRESPONDENTS_QUOTA_EXCEEDED',
      description: 'Monthly quota has been exceeded',
    },
  },
};

/** A text message: a known message type without a file. */
export function textMessage() {
  return {
    ...whatsappDocument({ idMessage: 'TEXT0001' }),
    messageData: { typeMessage: 'textMessage', textMessageData: { textMessage: 'hello' } },
  };
}
