import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createHash } from 'node:crypto';
import { S3Client } from '@aws-sdk/client-s3';
import {
  RECORD_QUEUE,
  createIngestPath,
  eventRecordSchema,
  sidecarSchema,
  type Ingest,
} from '@archiver/core';
import {
  conversationCorpus,
  fileWebhook,
  getObjectBytes,
  listAllKeys,
  s3ClientConfig,
  type ConversationEntry,
} from '@archiver/testkit';
import { Queue } from 'bullmq';
import { MAX, WA, startPipeline, type Pipeline } from './harness.js';

let p: Pipeline;
let s3: S3Client;
let ingest: Ingest;
let close: () => Promise<void>;
const bucket = () => inject('s3').bucket;

beforeAll(async () => {
  p = await startPipeline();
  s3 = new S3Client(s3ClientConfig(inject('s3')));
  const path = createIngestPath(p.producer, p.config);
  ingest = path.ingest;
  close = async () => {
    await path.recordQueue.close();
    await path.queue.close();
  };
});
afterAll(async () => {
  await close?.();
  await p?.close();
  s3?.destroy();
});

/** What the body must read as in its record: the same JSON less every `jpegThumbnail`. */
function withoutThumbnails(text: string): unknown {
  return JSON.parse(text, (key, value: unknown) => (key === 'jpegThumbnail' ? undefined : value));
}

async function readJson(key: string): Promise<unknown> {
  return JSON.parse((await getObjectBytes(s3, bucket(), key)).toString('utf8'));
}

async function recordKeys(): Promise<string[]> {
  return (await listAllKeys(s3, bucket(), `${p.prefix}/`)).filter((k) => k.endsWith('.json'));
}

describe('the conversation record', () => {
  it('keeps every message and event of WhatsApp and MAX once, body as received', async () => {
    const t0 = Math.floor(Date.UTC(2026, 10, 30, 23, 59, 0) / 1000);
    const wa = { ...WA, kind: 'whatsapp' as const };
    const max = { ...MAX, kind: 'max' as const };
    const file = p.fake.addFile({
      ...wa,
      typeMessage: 'documentMessage',
      chatId: '71234567890@c.us',
      idMessage: 'WAFILE1',
      timestamp: t0,
    });
    const fileHook = fileWebhook({
      ...wa,
      typeMessage: 'documentMessage',
      chatId: '71234567890@c.us',
      idMessage: 'WAFILE1',
      timestamp: t0,
      downloadUrl: file.downloadUrl,
      fileName: file.fileName,
      jpegThumbnail: 'THUMB',
    });
    const corpus: ConversationEntry[] = [
      ...conversationCorpus(wa, {
        chatId: '71234567890@c.us',
        timestamp: t0,
        tag: 'WA',
        fileId: 'WAFILE1',
      }),
      ...conversationCorpus(max, { chatId: '-10000000000000', timestamp: t0, tag: '99' }),
    ];
    const texts = [JSON.stringify(fileHook), ...corpus.map((e) => JSON.stringify(e.body))];
    // Each body twice, concurrently: a duplicate changes nothing.
    const outcomes = await Promise.all(
      [...texts, ...texts].map((text) => ingest(JSON.parse(text), text, 'webhook')),
    );
    expect(outcomes.every((o) => o.outcome === 'accepted' || o.outcome === 'duplicate')).toBe(true);

    const expected = corpus.length + 2; // + the file and its record
    await expect
      .poll(async () => (await listAllKeys(s3, bucket(), `${p.prefix}/`)).length, {
        timeout: 30_000,
        interval: 200,
      })
      .toBe(expected);

    const keys = await recordKeys();
    const byBody = new Map<string, string>();
    for (const key of keys) {
      const json = (await readJson(key)) as { message: unknown };
      byBody.set(JSON.stringify(json.message), key);
    }
    for (const [i, text] of texts.entries()) {
      const key = byBody.get(JSON.stringify(withoutThumbnails(text)));
      expect(key, `record of ${text.slice(0, 200)}`).toBeDefined();
      const record = (await readJson(key!)) as Record<string, unknown>;
      expect(record.message).toEqual(withoutThumbnails(text));
      expect(JSON.stringify(record.message)).not.toContain('jpegThumbnail');
      const bytes = Buffer.from(text, 'utf8');
      expect(record.received).toEqual({
        sha256: createHash('sha256').update(bytes).digest('hex'),
        size: bytes.length,
        exact: true,
      });
      if (i === 0) {
        expect(sidecarSchema.parse(record).status).toBe('archived');
        continue;
      }
      const entry = corpus[i - 1]!;
      if (entry.record === 'message') {
        expect(key).toMatch(new RegExp(`/${entry.idMessage}/message\\.json$`));
        expect(sidecarSchema.parse(record)).toMatchObject({
          status: 'recorded',
          idMessage: entry.idMessage,
          typeMessage: entry.label,
        });
      } else {
        const event = eventRecordSchema.parse(record);
        expect(event.typeWebhook).toBe(entry.label);
        expect(event.chatId).toBe(entry.chatId);
        expect(key).toContain(entry.chatId ? '/_events/' : '/_instance/');
      }
    }
    // Edits, deletions, reactions and poll updates name the message they change.
    const edit = (await readJson(keys.find((k) => k.includes('/WAE2/'))!)) as Record<
      string,
      unknown
    >;
    expect(edit).toMatchObject({ stanzaId: 'WAE0', typeMessage: 'editedMessage' });
    const deletion = (await readJson(keys.find((k) => k.includes('/WAD2/'))!)) as Record<
      string,
      unknown
    >;
    expect(deletion).toMatchObject({ stanzaId: 'WAFILE1', typeMessage: 'deletedMessage' });
    // Dated by the event's own time: the corpus crosses midnight into December.
    expect(keys.some((k) => k.includes('/2026/11/30/'))).toBe(true);
    expect(keys.some((k) => k.includes('/2026/12/01/'))).toBe(true);

    // Delivered again after the jobs are gone: the records stay exactly as they were.
    const before = await Promise.all(keys.map((k) => getObjectBytes(s3, bucket(), k)));
    await Promise.all(texts.map((text) => ingest(JSON.parse(text), text, 'webhook')));
    const records = new Queue(RECORD_QUEUE, { connection: p.producer, prefix: p.prefix });
    await expect
      .poll(async () => (await records.getJobCounts('wait', 'active', 'delayed')).wait, {
        timeout: 20_000,
      })
      .toBe(0);
    await expect
      .poll(async () => (await records.getJobCounts('active')).active, { timeout: 20_000 })
      .toBe(0);
    await records.close();
    expect(await recordKeys()).toEqual(keys);
    const after = await Promise.all(keys.map((k) => getObjectBytes(s3, bucket(), k)));
    expect(after.map((b) => b.toString())).toEqual(before.map((b) => b.toString()));
  });
});
