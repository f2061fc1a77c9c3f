import { describe, expect, it } from 'vitest';
import { classifyWebhook } from '@archiver/greenapi';
import { recordJobRequest } from './queue.js';
import { STATUS_CHAT } from './object-keys.js';
import {
  readRecordJob,
  receivedOf,
  recordJobFromEvent,
  recordJobFromJournal,
  recordJobFromMessage,
  recordJobFromStatus,
  storedRecordData,
} from './record-job.js';

const text = JSON.stringify({
  typeWebhook: 'incomingMessageReceived',
  instanceData: { idInstance: 1101000002, wid: '71234567890@c.us', typeInstance: 'whatsapp' },
  timestamp: 1705466692,
  idMessage: 'B8C959F41DDF44C312053B420A16C217',
  senderData: { chatId: '71231234567@c.us', sender: '71231234567@c.us', senderName: 'Анна' },
  messageData: {
    typeMessage: 'editedMessage',
    editedMessageData: { textMessage: 'Договор во вложении', stanzaId: 'A1B2' },
  },
});

function webhookRecord() {
  const body: unknown = JSON.parse(text);
  const result = classifyWebhook(body);
  if (result.kind !== 'message') throw new Error('expected a message');
  return recordJobFromMessage(result.webhook, body, 'whatsapp', 'webhook', receivedOf(text, true));
}

const item = {
  type: 'incoming' as const,
  idMessage: 'M1',
  timestamp: 1705466692,
  typeMessage: 'textMessage',
  chatId: '1@c.us',
  textMessage: 'привет',
};

/** What BullMQ stores, read back as the worker gets it: JSON through Redis. */
const throughRedis = (d: Parameters<typeof recordJobRequest>[0]) =>
  JSON.parse(JSON.stringify(recordJobRequest(d).data)) as unknown;

describe('record job data in Redis', () => {
  it('stores a message without the facts its body holds, and reads them back', () => {
    const job = webhookRecord();
    expect(job).toMatchObject({ idInstance: '1101000002', chatId: '71231234567@c.us' });
    expect(job.stanzaId).toBe('A1B2');
    expect(Object.keys(storedRecordData(job)).sort()).toEqual([
      'kind',
      'message',
      'received',
      'receivedAt',
      'record',
      'source',
    ]);
    const read = readRecordJob(throughRedis(job));
    expect(read).toMatchObject({ ok: true, data: job });
    expect(read.ok && read.data).toEqual(job);
  });

  it('keeps the instance of a journal item and of a status, which name none', () => {
    const journal = recordJobFromJournal('1101000002', 'max', item, 42);
    expect(Object.keys(storedRecordData(journal))).toContain('idInstance');
    expect(readRecordJob(throughRedis(journal))).toEqual({
      ok: true,
      data: journal,
      message: item,
    });

    const status = recordJobFromStatus('1101000002', 'whatsapp', item, 42);
    const read = readRecordJob(throughRedis(status));
    expect(read.ok && read.data).toEqual(status);
    expect(read.ok && read.data.chatId).toBe(STATUS_CHAT);
  });

  it('stores an event as it is', () => {
    const body = {
      typeWebhook: 'incomingCall',
      instanceData: { idInstance: 1101000002, wid: '7@c.us', typeInstance: 'whatsapp' },
      timestamp: 1705466692,
      idMessage: 'C1',
      from: '71231234567@c.us',
      status: 'offer',
    };
    const result = classifyWebhook(body);
    if (result.kind !== 'event') throw new Error('expected an event');
    const event = recordJobFromEvent(
      result.event,
      body,
      result.chatId,
      'whatsapp',
      'webhook',
      undefined,
      42,
    );
    expect(storedRecordData(event)).toEqual(event);
    const read = readRecordJob(throughRedis(event));
    expect(read.ok && read.data).toEqual(event);
  });

  it('reads a job queued with its facts as it is', () => {
    const job = webhookRecord();
    // Written by an earlier version: the facts beside the body win over a read of it.
    const queued = { ...job, chatId: 'earlier@c.us' };
    expect(readRecordJob(queued)).toMatchObject({ ok: true, data: { chatId: 'earlier@c.us' } });
  });

  it('refuses data it cannot read, saying why', () => {
    const stored = storedRecordData(webhookRecord());
    const notAWebhook = { ...stored, message: 't1:{}' };
    expect(readRecordJob(notAWebhook)).toMatchObject({ ok: false, error: /^message: / });
    const journal = storedRecordData(recordJobFromJournal('1101000002', 'max', item, 42));
    expect(readRecordJob({ ...journal, idInstance: undefined })).toEqual({
      ok: false,
      error: 'idInstance: missing',
    });
    expect(readRecordJob({ ...stored, message: 'd1:????' })).toEqual({
      ok: false,
      error: 'message: not a readable kept body',
    });
    expect(readRecordJob({ ...stored, record: 'event' })).toMatchObject({ ok: false });
  });
});
