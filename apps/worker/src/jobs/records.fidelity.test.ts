import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createHash } from 'node:crypto';
import {
  createIngestor,
  instanceMap,
  readArchiveJob,
  readRecordJob,
  recordJobRequest,
  type ArchiveJobData,
  type JobWriter,
  type Quarantine,
  type RecordJobData,
  type RecordJobWriter,
} from '@archiver/core';
import { KNOWN_MESSAGE_TYPES, OTHER_WEBHOOK_TYPES } from '@archiver/greenapi';
import { archivedRecord, eventRecord, messageRecord } from './records.js';

/**
 * The fidelity rule (docs/conversation.md §4), over generated bodies of every type: what a
 * record holds, written and read back as JSON, equals the body received less its
 * `jpegThumbnail` fields, and `received` is the SHA-256 of the exact bytes.
 */

const json = fc.jsonValue({ maxDepth: 3 });
/** Payload objects with arbitrary extra fields, thumbnails sprinkled at any depth. */
const payload = fc
  .tuple(
    fc.dictionary(fc.string({ maxLength: 12 }), json, { maxKeys: 5 }),
    fc.boolean(),
    fc.string({ maxLength: 40 }),
  )
  .map(([extra, thumb, text]) => ({
    ...extra,
    text,
    ...(thumb ? { jpegThumbnail: 'BASE64THUMB', nested: { jpegThumbnail: 'X', keep: 1.5 } } : {}),
  }));

const typeMessage = fc.oneof(
  fc.constantFrom(...KNOWN_MESSAGE_TYPES),
  fc.string({ minLength: 1, maxLength: 20 }),
);

const envelope = fc.record({
  typeWebhook: fc.constantFrom(
    'incomingMessageReceived',
    'outgoingMessageReceived',
    'outgoingAPIMessageReceived',
  ),
  instanceData: fc.record({
    idInstance: fc.oneof(fc.constant(1101000001), fc.constant(3100000000)),
    wid: fc.string({ maxLength: 20 }),
    typeInstance: fc.constantFrom('whatsapp', 'v3'),
  }),
  timestamp: fc.integer({ min: 0, max: 4_000_000_000 }),
  idMessage: fc.string({ minLength: 1, maxLength: 30 }),
  senderData: fc.record({
    chatId: fc.string({ minLength: 1, maxLength: 30 }),
    sender: fc.string({ maxLength: 20 }),
    senderName: fc.string({ maxLength: 20 }),
    senderPhoneNumber: fc.integer(),
  }),
  extra: fc.dictionary(fc.string({ minLength: 1, maxLength: 8 }), json, { maxKeys: 3 }),
});

const messageBody = fc
  .tuple(envelope, typeMessage, payload, fc.option(fc.string({ minLength: 1, maxLength: 20 })))
  .map(([e, type, data, stanzaId]) => {
    const { extra, ...rest } = e;
    const file = [
      'imageMessage',
      'videoMessage',
      'documentMessage',
      'audioMessage',
      'stickerMessage',
    ].includes(type);
    const messageData: Record<string, unknown> = file
      ? { typeMessage: type, fileMessageData: { ...data, downloadUrl: 'https://x.example/f' } }
      : { typeMessage: type, [`${type}Data`]: data };
    if (stanzaId !== null) messageData.quotedMessage = { stanzaId, jpegThumbnail: 'Q' };
    return { ...extra, ...rest, messageData };
  });

const eventBody = fc
  .tuple(
    fc.constantFrom(...OTHER_WEBHOOK_TYPES),
    // Configured instances only: ingest quarantines the bodies of any other.
    fc.constantFrom(1101000001, 3100000000),
    fc.option(fc.integer({ min: 0, max: 4_000_000_000 })),
    fc.option(fc.string({ minLength: 1, maxLength: 30 })),
    payload,
  )
  .map(([typeWebhook, idInstance, timestamp, chatId, data]) => ({
    typeWebhook,
    instanceData: { idInstance, wid: '1@c.us', typeInstance: 'whatsapp' },
    ...(timestamp === null ? {} : { timestamp }),
    ...(chatId === null ? {} : { chatId }),
    data,
  }));

function withoutThumbnails(text: string): unknown {
  return JSON.parse(text, (key, value: unknown) => (key === 'jpegThumbnail' ? undefined : value));
}

/** The ingest path with writers that keep the job data instead of storing it. */
function capture() {
  const jobs: Array<{ file?: ArchiveJobData; record?: RecordJobData }> = [];
  const writer = {
    write: (data: ArchiveJobData) => {
      jobs.push({ file: data });
      return Promise.resolve({ outcome: 'accepted' as const, jobId: 'f' });
    },
  } as unknown as JobWriter;
  const records = {
    write: (data: RecordJobData) => {
      jobs.push({ record: data });
      return Promise.resolve({ outcome: 'accepted' as const, jobId: 'r' });
    },
  } as unknown as RecordJobWriter;
  const quarantine = { add: () => Promise.resolve('q') } as unknown as Quarantine;
  const instances = instanceMap(
    ['1101000001', '3100000000'].map((idInstance) => ({
      idInstance,
      apiTokenInstance: 'api-token-instance-secret',
      apiUrl: 'https://api.green-api.com',
      delivery: 'webhook' as const,
    })),
  );
  const ingest = createIngestor({ writer, records, quarantine, instances });
  return { ingest, jobs };
}

/** What the record written to S3 reads back as. */
async function recordOf(text: string): Promise<Record<string, unknown> | undefined> {
  const { ingest, jobs } = capture();
  const outcome = await ingest(JSON.parse(text), text, 'webhook');
  if (outcome.outcome === 'quarantined') return undefined;
  const job = jobs[0];
  let record: object;
  if (job?.file) {
    const read = readArchiveJob(JSON.parse(JSON.stringify(job.file)));
    if (!read.ok) throw new Error(read.error);
    record = archivedRecord({
      data: read.data,
      message: read.message,
      attempts: 1,
      key: 'k',
      sha256: '0'.repeat(64),
      size: 1,
      contentType: 'x/y',
    });
  } else {
    // Through Redis as JSON, in the form BullMQ stores it (the facts left in the body).
    if (!job?.record) throw new Error('no job');
    const read = readRecordJob(JSON.parse(JSON.stringify(recordJobRequest(job.record).data)));
    if (!read.ok) throw new Error(read.error);
    // The facts read back from the body are those the receiver classified.
    expect(read.data).toEqual(job.record);
    const c = { data: read.data, message: read.message, attempts: 1 };
    record = read.data.record === 'message' ? messageRecord(c) : eventRecord(c);
  }
  return JSON.parse(JSON.stringify(record, null, 2)) as Record<string, unknown>;
}

function sha256(text: string) {
  return createHash('sha256').update(Buffer.from(text, 'utf8')).digest('hex');
}

describe('a record keeps the body as received', () => {
  it('for every message type, known or not, files included', async () => {
    await fc.assert(
      fc.asyncProperty(messageBody, fc.boolean(), async (body, pretty) => {
        const text = JSON.stringify(body, null, pretty ? 2 : undefined);
        const record = await recordOf(text);
        // A body the classifier cannot take is quarantined whole, bytes and all.
        if (!record) return;
        expect(record.message).toEqual(withoutThumbnails(text));
        expect(JSON.stringify(record.message)).not.toContain('jpegThumbnail');
        expect(record.received).toEqual({
          sha256: sha256(text),
          size: Buffer.byteLength(text),
          exact: true,
        });
      }),
      { numRuns: 300 },
    );
  });

  it('for every other webhook type', async () => {
    await fc.assert(
      fc.asyncProperty(eventBody, async (body) => {
        const text = JSON.stringify(body);
        const record = await recordOf(text);
        expect(record).toBeDefined();
        expect(record?.message).toEqual(withoutThumbnails(text));
        expect(record?.received).toMatchObject({ sha256: sha256(text) });
      }),
      { numRuns: 200 },
    );
  });
});
