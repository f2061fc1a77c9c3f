import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startFakeGreenApi, type FakeGreenApi, type JournalItem } from '../src/index.js';

const WA = { idInstance: '1101000001', apiTokenInstance: 'wa-token', kind: 'whatsapp' } as const;
const CHAT = '71234567890@c.us';
const NOW_S = 1_700_000_000;

let fake: FakeGreenApi;
let clock: number;

beforeEach(async () => {
  clock = NOW_S * 1000;
  fake = await startFakeGreenApi({ now: () => clock, maxReceiveTimeoutMs: 5_000 });
  fake.addInstance(WA);
});
afterEach(() => fake.close());

const api = (method: string, init: RequestInit & { query?: string; arg?: string } = {}) =>
  fetch(
    `${fake.url}/waInstance${WA.idInstance}/${method}/${WA.apiTokenInstance}${init.arg ? `/${init.arg}` : ''}${init.query ?? ''}`,
    init,
  );

const textItem = (idMessage: string, timestamp: number, chatId = CHAT): JournalItem => ({
  type: 'incoming',
  idMessage,
  timestamp,
  typeMessage: 'textMessage',
  chatId,
  textMessage: 'hi',
  senderId: chatId,
  senderName: 'Someone',
});

describe('journals', () => {
  it('lists recent incoming and outgoing messages, newest first, with flat file fields', async () => {
    const file = fake.addFile({
      idInstance: WA.idInstance,
      chatId: CHAT,
      idMessage: 'IN1',
      bytes: Buffer.from('jpeg'),
      fileName: 'p.jpg',
      mimeType: 'image/jpeg',
      direction: 'incoming',
      timestamp: NOW_S - 60,
    });
    fake.addFile({
      idInstance: WA.idInstance,
      chatId: CHAT,
      idMessage: 'OUT1',
      direction: 'outgoing',
      sendByApi: true,
    });
    fake.addJournalMessage(WA.idInstance, textItem('OLD', NOW_S - 3 * 3600));
    fake.addJournalMessage(WA.idInstance, textItem('NEW', NOW_S - 10));

    const incoming = (await (
      await api('lastIncomingMessages', { query: '?minutes=60' })
    ).json()) as JournalItem[];
    expect(incoming.map((i) => i.idMessage)).toEqual(['NEW', 'IN1']);
    expect(incoming[1]).toEqual({
      type: 'incoming',
      idMessage: 'IN1',
      timestamp: NOW_S - 60,
      typeMessage: 'imageMessage',
      chatId: CHAT,
      senderId: CHAT,
      senderName: 'Green API',
      downloadUrl: file.downloadUrl,
      caption: '',
      fileName: 'p.jpg',
      jpegThumbnail: '',
      mimeType: 'image/jpeg',
      isForwarded: false,
      forwardingScore: 0,
    });

    const outgoing = (await (await api('lastOutgoingMessages')).json()) as JournalItem[];
    expect(outgoing).toMatchObject([
      {
        type: 'outgoing',
        idMessage: 'OUT1',
        typeMessage: 'documentMessage',
        statusMessage: 'sent',
        sendByApi: true,
      },
    ]);
    clock += 1000;
    const all = (await (await api('lastIncomingMessages')).json()) as JournalItem[];
    expect(all.map((i) => i.idMessage)).toEqual(['NEW', 'IN1', 'OLD']); // default 1440 minutes
  });

  it('limits each journal method to one call per second', async () => {
    expect((await api('lastIncomingMessages')).status).toBe(200);
    expect((await api('lastIncomingMessages')).status).toBe(429);
    expect((await api('lastOutgoingMessages')).status).toBe(200);
    clock += 1000;
    expect((await api('lastIncomingMessages')).status).toBe(200);
  });

  it('returns a chat history newest first, up to count', async () => {
    fake.addJournalMessage(WA.idInstance, textItem('A', NOW_S - 30));
    fake.addJournalMessage(WA.idInstance, textItem('B', NOW_S - 20));
    fake.addJournalMessage(WA.idInstance, textItem('C', NOW_S - 10));
    fake.addJournalMessage(WA.idInstance, textItem('OTHER', NOW_S, '79001234568@c.us'));
    const res = await api('getChatHistory', {
      method: 'POST',
      body: JSON.stringify({ chatId: CHAT, count: 2 }),
    });
    expect(((await res.json()) as JournalItem[]).map((i) => i.idMessage)).toEqual(['C', 'B']);
    clock += 1000;
    const bad = await api('getChatHistory', { method: 'POST', body: JSON.stringify({ count: 2 }) });
    expect(bad.status).toBe(400);
  });
});

describe('notifications', () => {
  const receive = async (timeout = 0) =>
    (await (await api('receiveNotification', { query: `?receiveTimeout=${timeout}` })).json()) as {
      receiptId: number;
      body: unknown;
    } | null;
  const remove = async (receiptId: string | number) =>
    api('deleteNotification', { method: 'DELETE', arg: String(receiptId) });

  it('hands out the head until it is deleted, in FIFO order', async () => {
    const first = fake.pushNotification(WA.idInstance, {
      typeWebhook: 'incomingMessageReceived',
      n: 1,
    });
    fake.pushNotification(WA.idInstance, { typeWebhook: 'incomingMessageReceived', n: 2 });
    expect(await receive()).toEqual({
      receiptId: first,
      body: { typeWebhook: 'incomingMessageReceived', n: 1 },
    });
    expect((await receive())?.receiptId).toBe(first);
    expect(await (await remove(first)).json()).toEqual({ result: true });
    expect(await (await remove(first)).json()).toEqual({ result: false });
    expect((await receive())?.body).toEqual({ typeWebhook: 'incomingMessageReceived', n: 2 });
    expect(fake.pendingNotifications(WA.idInstance)).toBe(1);
    expect((await remove('abc')).status).toBe(400);
  });

  it('answers null after the (capped) long poll when the queue stays empty', async () => {
    const capped = await startFakeGreenApi({ maxReceiveTimeoutMs: 50 });
    capped.addInstance(WA);
    const started = Date.now();
    const res = await fetch(
      `${capped.url}/waInstance${WA.idInstance}/receiveNotification/${WA.apiTokenInstance}?receiveTimeout=60`,
    );
    expect(await res.json()).toBeNull();
    expect(Date.now() - started).toBeLessThan(4_000);
    await capped.close();
  });

  it('wakes a waiting long poll as soon as a notification is pushed', async () => {
    const pending = receive(5);
    await expect.poll(() => fake.count('receiveNotification')).toBe(1);
    const receiptId = fake.pushNotification(WA.idInstance, { typeWebhook: 'stateInstanceChanged' });
    expect(await pending).toEqual({ receiptId, body: { typeWebhook: 'stateInstanceChanged' } });
    expect(fake.count('receiveNotification', { status: 200 })).toBe(1);
  });

  it('keeps the queue reachable while the instance is not authorized', async () => {
    fake.setInstanceState(WA.idInstance, 'notAuthorized');
    fake.pushNotification(WA.idInstance, {
      typeWebhook: 'stateInstanceChanged',
      stateInstance: 'notAuthorized',
    });
    expect((await receive())?.body).toMatchObject({ stateInstance: 'notAuthorized' });
    expect((await api('lastIncomingMessages')).status).toBe(400);
  });
});
