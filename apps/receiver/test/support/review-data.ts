import { createHash, generateKeyPairSync, randomBytes } from 'node:crypto';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { Redis } from 'ioredis';
import { objectKeys } from '@archiver/core';
import {
  createCustodyLog,
  createCustodyStore,
  createSigner,
  custodyKeys,
  custodyRecorder,
  sealPending,
} from '@archiver/custody';

export const INSTANCE = '1101000001';
export const CHAT = '79001234567@c.us';
export const DAY = '2026-11-30';
const T0 = Date.parse(`${DAY}T09:00:00Z`) / 1000;

/** A conversation as the worker stores it (docs/conversation.md §2), for the review page. */
export async function putConversation(opts: {
  s3: S3Client;
  bucket: string;
  prefix: string;
  redis: Redis;
  queuePrefix: string;
}) {
  const keys = custodyKeys(opts.queuePrefix);
  const log = createCustodyLog(opts.redis, keys);
  const record = custodyRecorder(log);
  const put = async (key: string, body: Buffer, contentType: string) => {
    await opts.s3.send(
      new PutObjectCommand({ Bucket: opts.bucket, Key: key, Body: body, ContentType: contentType }),
    );
    await record({ key, sha256: sha256(body), size: body.length });
  };
  const message = async (
    idMessage: string,
    at: number,
    messageData: Record<string, unknown>,
    file?: { name: string; type: string; bytes: Buffer },
  ) => {
    const parts = {
      prefix: opts.prefix,
      kind: 'whatsapp' as const,
      idInstance: INSTANCE,
      chatId: CHAT,
      idMessage,
      timestamp: T0 + at,
      fileName: file?.name,
      mimeType: file?.type,
    };
    const { fileKey, sidecarKey } = objectKeys(parts);
    const typeMessage = messageData.typeMessage as string;
    const sidecar = {
      status: file ? 'archived' : 'recorded',
      idInstance: INSTANCE,
      chatId: CHAT,
      idMessage,
      kind: 'whatsapp',
      typeWebhook: 'incomingMessageReceived',
      typeMessage,
      timestamp: T0 + at,
      attempts: 1,
      ...(file
        ? {
            fileName: file.name,
            key: fileKey,
            sha256: sha256(file.bytes),
            size: file.bytes.length,
            contentType: file.type,
            archivedAt: new Date().toISOString(),
          }
        : { recordedAt: new Date().toISOString() }),
      message: {
        typeWebhook: 'incomingMessageReceived',
        idMessage,
        timestamp: T0 + at,
        senderData: { chatId: CHAT, sender: CHAT, senderName: 'Alice Example' },
        messageData,
      },
    };
    if (file) await put(fileKey, file.bytes, file.type);
    await put(sidecarKey, Buffer.from(JSON.stringify(sidecar)), 'application/json');
    return { fileKey, sidecarKey };
  };
  const text = (t: string) => ({ typeMessage: 'textMessage', textMessageData: { textMessage: t } });

  await message('ORIG01', 0, text('Meet at five by the north gate'));
  await message('EDIT01', 60, {
    typeMessage: 'editedMessage',
    editedMessageData: { stanzaId: 'ORIG01', textMessage: 'Meet at six by the north gate' },
  });
  await message('GONE01', 120, text('The shredding starts on Friday'));
  await message('DEL001', 180, {
    typeMessage: 'deletedMessage',
    deletedMessageData: { stanzaId: 'GONE01' },
  });
  await message('REACT1', 200, {
    typeMessage: 'reactionMessage',
    extendedTextMessageData: { text: '👍' },
    quotedMessage: { stanzaId: 'ORIG01' },
  });
  const pdf = Buffer.concat([Buffer.from('%PDF-1.4\n'), randomBytes(300_000)]);
  const doc = await message(
    'FILE01',
    240,
    {
      typeMessage: 'documentMessage',
      fileMessageData: { fileName: 'contract v2.pdf', mimeType: 'application/pdf', caption: '' },
    },
    { name: 'contract v2.pdf', type: 'application/pdf', bytes: pdf },
  );
  const png = tinyPng();
  await message(
    'IMG001',
    300,
    {
      typeMessage: 'imageMessage',
      fileMessageData: { fileName: 'gate.png', mimeType: 'image/png', caption: 'the gate' },
    },
    { name: 'gate.png', type: 'image/png', bytes: png },
  );

  // Seal everything so far, then archive one more message: sealed, then waiting.
  const { privateKey } = generateKeyPairSync('ed25519');
  const signer = createSigner(privateKey.export({ type: 'pkcs8', format: 'pem' }).toString());
  const store = createCustodyStore(opts.s3, { bucket: opts.bucket, prefix: opts.prefix });
  await sealPending({ redis: opts.redis, keys, log, store, signer });
  const late = await message('LATE01', 360, text('Sent after the seal'));
  return { pdf, pdfKey: doc.fileKey, lateKey: late.sidecarKey, keys };
}

function sha256(b: Buffer): string {
  return createHash('sha256').update(b).digest('hex');
}

/** A valid 1×1 PNG, so the browser really renders the inline image. */
function tinyPng(): Buffer {
  return Buffer.from(
    'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==',
    'base64',
  );
}
