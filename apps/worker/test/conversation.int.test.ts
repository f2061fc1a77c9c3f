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
import type { FileMessageType } from '@archiver/greenapi';
// The timeline is not a dependency of the worker: reached by path, as `archiver transcript`
// prints it.
import { chatTimeline, formatEntry } from '../../../packages/timeline/src/index.js';
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

type FileSent = { hook: ReturnType<typeof fileWebhook>; sha256: string; size: number };

describe('the conversation record', () => {
  it('keeps every message and event of WhatsApp and MAX once, body as received, and reads back as the transcript', async () => {
    const t0 = Math.floor(Date.UTC(2026, 10, 30, 23, 59, 0) / 1000);
    const wa = { ...WA, kind: 'whatsapp' as const };
    const max = { ...MAX, kind: 'max' as const };
    const waChat = '71234567890@c.us';
    const maxChat = '-10000000000000';
    // Every file type, on both kinds (MAX documents no sticker), before the conversation.
    const sendFile = (
      ref: typeof wa | typeof max,
      chatId: string,
      typeMessage: FileMessageType,
      idMessage: string,
      timestamp: number,
    ): FileSent => {
      const file = p.fake.addFile({ ...ref, typeMessage, chatId, idMessage, timestamp });
      const hook = fileWebhook({
        ...ref,
        typeMessage,
        chatId,
        idMessage,
        timestamp,
        downloadUrl: file.downloadUrl,
        fileName: file.fileName,
        jpegThumbnail: 'THUMB',
      });
      return { hook, sha256: file.sha256, size: file.size };
    };
    const files: FileSent[] = [
      sendFile(wa, waChat, 'documentMessage', 'WAFILE1', t0),
      sendFile(max, maxChat, 'documentMessage', '99FILE1', t0),
      ...(['imageMessage', 'videoMessage', 'audioMessage', 'stickerMessage'] as const).map(
        (type, i) => sendFile(wa, waChat, type, `WAFILE${i + 2}`, t0 - 50 + i),
      ),
      ...(['imageMessage', 'videoMessage', 'audioMessage'] as const).map((type, i) =>
        sendFile(max, maxChat, type, `99FILE${i + 2}`, t0 - 50 + i),
      ),
    ];
    const corpus: ConversationEntry[] = [
      ...conversationCorpus(wa, { chatId: waChat, timestamp: t0, tag: 'WA', fileId: 'WAFILE1' }),
      ...conversationCorpus(max, { chatId: maxChat, timestamp: t0, tag: '99', fileId: '99FILE1' }),
    ];
    const texts = [
      ...files.map((f) => JSON.stringify(f.hook)),
      ...corpus.map((e) => JSON.stringify(e.body)),
    ];
    // Each body twice, concurrently: a duplicate changes nothing.
    const outcomes = await Promise.all(
      [...texts, ...texts].map((text) => ingest(JSON.parse(text), text, 'webhook')),
    );
    expect(outcomes.every((o) => o.outcome === 'accepted' || o.outcome === 'duplicate')).toBe(true);

    const expected = corpus.length + 2 * files.length; // each file and its record
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
      if (i < files.length) {
        expect(sidecarSchema.parse(record)).toMatchObject({
          status: 'archived',
          sha256: files[i]!.sha256,
          size: files[i]!.size,
        });
        continue;
      }
      const entry = corpus[i - files.length]!;
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
    const maxDeletion = (await readJson(keys.find((k) => k.includes('/99D2/'))!)) as Record<
      string,
      unknown
    >;
    expect(maxDeletion).toMatchObject({ stanzaId: '99FILE1', typeMessage: 'deletedMessage' });
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

    // The transcript (`archiver transcript`'s lines) of each chat: every record once, in
    // time order, edits against the text they replaced, deletions with what was deleted.
    for (const [ref, chatId, tag] of [
      [wa, waChat, 'WA'],
      [max, maxChat, '99'],
    ] as const) {
      const lines = await transcriptOf(ref.idInstance, chatId);
      const ofChat = corpus.filter((e) => e.chatId === chatId);
      const chatFiles = files.filter((f) => f.hook.senderData.chatId === chatId);
      expect(lines).toHaveLength(ofChat.length + chatFiles.length);
      expect(new Set(lines).size).toBe(lines.length);
      const times = lines.map((l) => l.slice(0, 20));
      expect([...times].sort()).toEqual(times);
      for (const f of chatFiles) {
        const { typeMessage } = f.hook.messageData;
        expect(lines).toContainEqual(
          expect.stringMatching(
            new RegExp(
              ` \\[${typeMessage} ${f.hook.idMessage}\\] file \\S+/${f.hook.idMessage}/\\S+ ${f.size} bytes sha256 ${f.sha256}$`,
            ),
          ),
        );
      }
      const text = lines.join('\n');
      const deletedFile = chatFiles.find((f) => f.hook.idMessage === `${tag}FILE1`)!;
      for (const expected of [
        `[edit ${tag}E1 of ${tag}E0] "Price is 120" (replaces "Price is 100")`,
        `[edit ${tag}E2 of ${tag}E0] "Price is 150" (replaces "Price is 120")`,
        `[edit ${tag}E3 of ${tag}T2] "We agree to 12 000 EUR" (replaces "We agree to 12 500 EUR")`,
        `[deleted ${tag}D0 by ${tag}D1] was "I never said that"`,
        `[deleted ${tag}T4 by ${tag}D3] was "Wrong chat, sorry"`,
        `[deleted ${tag}FILE1 by ${tag}D2] was "[file ${deletedFile.hook.messageData.fileMessageData.fileName}]"`,
        `[reaction ${tag}R1 to ${tag}D0] 👍 on "I never said that"`,
        `[votes ${tag}P1 in ${tag}P0] Yes: 1, No: 0 on "Sign today? [Yes | No]"`,
        `[votes ${tag}P2 in ${tag}P0] Yes: 0, No: 1 on "Sign today? [Yes | No]"`,
        `(reply to ${tag}T1 "Hello, contract attached soon") "Yes, that one"`,
        `[interactiveButtonsReply ${tag}I2]`,
        `[interactiveButtonReply ${tag}I3]`,
        `[holographicMessage ${tag}U1]`,
        `event [outgoingMessageStatus sent] ${tag}T3`,
        `event [outgoingMessageStatus delivered] ${tag}T3`,
        `event [outgoingMessageStatus read] ${tag}T3`,
        `event [outgoingMessageStatus failed] ${tag}B1`,
        ...(ref.kind === 'whatsapp'
          ? [
              `event [incomingCall missed] ${tag}CALL1`,
              `event [outgoingCall pickUp] ${tag}CALL2`,
              'event [incomingBlock blocked]',
            ]
          : []),
      ]) {
        expect(text).toContain(expected);
      }
    }
  });
});

async function transcriptOf(idInstance: string, chatId: string): Promise<string[]> {
  const lines: string[] = [];
  const timeline = chatTimeline(s3, {
    bucket: bucket(),
    prefix: `${p.prefix}/`,
    idInstance,
    chatId,
  });
  for await (const entry of timeline) lines.push(formatEntry(entry));
  return lines;
}
