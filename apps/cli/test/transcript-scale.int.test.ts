import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Writable } from 'node:stream';
import { getHeapStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { messageWebhook } from '../../../packages/testkit/src/index.js';
import { runCli } from '../src/cli.js';
import { createContext, envOf, putRecords, seconds, WA, type TestContext } from './helpers.js';

/**
 * `archiver transcript` on a long chat holds one day and a week of remembered texts, never
 * the chat (docs/conversation.md §6). A chat of 3,000 records over 30 days, against the real
 * S3 server (3 listing pages of 1,000 keys). The heap still in use at each day's end (after a
 * full GC) is sampled while it prints: past the first week it must stay flat. Messages are
 * long (about 2,000 characters), so a timeline that kept what it read would hold 4 MB more
 * after day 30 than after day 10. Small enough to stay quick on s3rver;
 * `bench/src/micro/transcript-memory.ts` runs the CLI as a process on 100,000 records.
 */

const PER_DAY = 100;
const RECORDS = 3_000;
const MiB = 1024 * 1024;
const LONG_TEXT = 'The delivery is confirmed for Thursday morning at gate 4; '.repeat(34);

// A full collection before each sample, so the figure is what is retained, not garbage.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const heapUsed = () => {
  gc();
  return getHeapStatistics().used_heap_size;
};

/** A day of a busy chat: texts, and an edit, a reply, a reaction and a deletion among them. */
function chatBodies(chatId: string, count: number, t0: number): Record<string, unknown>[] {
  const bodies: Record<string, unknown>[] = [];
  for (let k = 0; k < count; k += 1) {
    const day = Math.floor(k / PER_DAY);
    const n = k % PER_DAY;
    const idMessage = `${chatId.slice(0, 3)}M${String(k).padStart(6, '0')}`;
    const earlier = `${chatId.slice(0, 3)}M${String(day * PER_DAY).padStart(6, '0')}`;
    const text = (s: string) => ({
      typeMessage: 'textMessage',
      textMessageData: { textMessage: s },
    });
    const messageData =
      n === 0 || n > 4
        ? text(`Day ${day}, message ${n}: ${LONG_TEXT}`)
        : n === 1
          ? {
              typeMessage: 'editedMessage',
              editedMessageData: { textMessage: `Day ${day}: gate 5`, stanzaId: earlier },
            }
          : n === 2
            ? {
                typeMessage: 'quotedMessage',
                extendedTextMessageData: { text: 'Noted', stanzaId: earlier },
                quotedMessage: { stanzaId: earlier, typeMessage: 'textMessage' },
              }
            : n === 3
              ? {
                  typeMessage: 'reactionMessage',
                  extendedTextMessageData: { text: '👍' },
                  quotedMessage: { stanzaId: earlier, typeMessage: 'textMessage' },
                }
              : { typeMessage: 'deletedMessage', deletedMessageData: { stanzaId: earlier } };
    bodies.push(
      messageWebhook({
        kind: 'whatsapp',
        idInstance: WA,
        chatId,
        idMessage,
        // Spread over the day, in order.
        timestamp: t0 + day * 86_400 + n * 600,
        messageData,
      }),
    );
  }
  return bodies;
}

describe('archiver transcript at scale', () => {
  let ctx: TestContext;
  const t0 = seconds('2026-06-01T00:00:00Z');
  const chat = '71230000002@c.us';

  beforeAll(async () => {
    ctx = createContext('transcript-scale');
    await putRecords(ctx, chatBodies(chat, RECORDS, t0), { concurrency: 16 });
  }, 300_000);
  afterAll(async () => ctx?.close(), 120_000);

  it('prints 3,000 records in memory that does not grow with the chat, with progress on stderr', async () => {
    let lines = 0;
    let err = '';
    const samples: number[] = [];
    const out = new Writable({
      write(chunk: Buffer, _enc, cb) {
        for (const c of chunk) if (c === 10) lines += 1;
        cb();
      },
    });
    const errSink = new Writable({
      write(chunk: Buffer, _enc, cb) {
        const text = chunk.toString();
        err = (err + text).slice(-4096);
        // Written by the day's progress line, while the day's records are held.
        if (/: \d+ records \(/.test(text)) samples.push(heapUsed());
        cb();
      },
    });
    const before = heapUsed();
    const code = await runCli(
      ['transcript', '--instance', WA, '--chat', chat],
      envOf(ctx),
      { out, err: errSink },
      ctx.factory,
    );
    expect(code).toBe(0);
    expect(lines).toBe(RECORDS);
    expect(samples).toHaveLength(RECORDS / PER_DAY);
    expect(err).toContain(`transcript: 2026-06-30: ${PER_DAY} records (${RECORDS} so far)`);
    expect(err).toMatch(new RegExp(`transcript: ${RECORDS} records\\n$`));
    // Retained growth after 1,000 records (days 6-10) and after 3,000 (days 26-30): the
    // week remembered is full by then, so what grows after it grows with the chat.
    const growth = (from: number, to: number) => Math.max(...samples.slice(from, to)) - before;
    const [early, late] = [growth(5, 10), growth(25, 30)];
    console.info(
      `transcript retained heap: +${(early / MiB).toFixed(2)} MiB after 1,000 records, +${(late / MiB).toFixed(2)} MiB after 3,000`,
    );
    expect(late - early).toBeLessThan(MiB);
  }, 300_000);
});
