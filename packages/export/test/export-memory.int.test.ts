import { Writable } from 'node:stream';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { objectKeys } from '@archiver/core';
import { sealPending } from '@archiver/custody';
import { writeExport } from '../src/index.js';
import { exportContext, type ExportContext } from './helpers.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const INSTANCE = '1101000001';
const MiB = 1024 * 1024;
// EXPORT_MEMORY_OBJECTS="2000,20000" and EXPORT_MEMORY_FILES="3x512" measure other sizes.
const [SMALL = 1000, LARGE = 10_000] = (process.env.EXPORT_MEMORY_OBJECTS ?? '1000,10000')
  .split(',')
  .map(Number);
const [FILES = 3, FILE_MIB = 128] = (process.env.EXPORT_MEMORY_FILES ?? '3x128')
  .split('x')
  .map(Number);

let c: ExportContext;
beforeAll(() => {
  c = exportContext();
});
afterAll(async () => c?.close());

/**
 * A chat of about `objects` objects, 110 a day (100 messages, every tenth with a small
 * file), so a day of the timeline — what the export holds at once by design — is the same
 * for every size; or `files` big files, one a day.
 */
async function putChat(chatId: string, opts: { objects?: number; big?: number[] }) {
  const t0 = Date.parse('2026-01-01T08:00:00Z') / 1000;
  const jobs: Array<() => Promise<void>> = [];
  const messages = opts.big ? opts.big.length : Math.round((opts.objects ?? 0) / 1.1);
  for (let i = 0; i < messages; i += 1) {
    const day = opts.big ? i : Math.floor(i / 100);
    const timestamp = t0 + day * 86_400 + (i % 100) * 60;
    const size = opts.big ? opts.big[i] : i % 10 === 9 ? 2048 : undefined;
    jobs.push(() => putMessage(chatId, `M${String(i).padStart(7, '0')}`, timestamp, size));
  }
  let next = 0;
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      for (let j = next++; j < jobs.length; j = next++) await jobs[j]!();
    }),
  );
}

async function putMessage(chatId: string, idMessage: string, timestamp: number, size?: number) {
  const parts = {
    prefix: c.prefix,
    kind: 'whatsapp' as const,
    idInstance: INSTANCE,
    chatId,
    idMessage,
    timestamp,
    fileName: size ? 'file.bin' : undefined,
    mimeType: size ? 'application/octet-stream' : undefined,
  };
  const { fileKey, sidecarKey } = objectKeys(parts);
  let file: { sha256: string; size: number } | undefined;
  if (size) file = await c.putObject(fileKey, size);
  const message = {
    typeWebhook: 'incomingMessageReceived',
    idMessage,
    timestamp,
    senderData: { chatId, sender: chatId, senderName: 'Memory Test' },
    messageData: size
      ? { typeMessage: 'documentMessage', fileMessageData: { fileName: 'file.bin' } }
      : { typeMessage: 'textMessage', textMessageData: { textMessage: `message ${idMessage}` } },
  };
  const sidecar = {
    status: file ? 'archived' : 'recorded',
    idInstance: INSTANCE,
    chatId,
    idMessage,
    kind: 'whatsapp',
    typeWebhook: 'incomingMessageReceived',
    typeMessage: message.messageData.typeMessage,
    timestamp,
    attempts: 1,
    ...(file
      ? {
          fileName: 'file.bin',
          key: fileKey,
          ...file,
          contentType: 'application/octet-stream',
          archivedAt: new Date().toISOString(),
        }
      : { recordedAt: new Date().toISOString() }),
    message,
  };
  await c.putBytes(sidecarKey, Buffer.from(JSON.stringify(sidecar)));
}

/**
 * Exports one chat into a counting sink. The heap is read after a full collection once a
 * second: its median says what the export holds while it runs (a list that grows with the
 * chat shows in it, half-grown), and unlike the peak it does not rise with the number of
 * samples a longer run takes. RSS is kept as a peak.
 */
async function measure(chatId: string) {
  let written = 0;
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      written += chunk.length;
      cb();
    },
  });
  gc();
  const before = process.memoryUsage();
  const heaps: number[] = [];
  let rss = before.rss;
  const sample = () => {
    gc();
    const m = process.memoryUsage();
    heaps.push(m.heapUsed);
    rss = Math.max(rss, m.rss);
  };
  // A full collection a second: often enough for lists that only grow, rare enough to cost little.
  const sampler = setInterval(sample, 1000);
  const started = performance.now();
  const result = await writeExport(
    { s3: c.s3, bucket: c.bucket, prefix: c.prefix, store: c.store, redis: c.redis, keys: c.keys },
    { idInstance: INSTANCE, chatId },
    sink,
  ).finally(() => clearInterval(sampler));
  sample();
  return {
    result,
    written,
    seconds: (performance.now() - started) / 1000,
    heapGrowth: median(heaps) - before.heapUsed,
    heapPeakGrowth: Math.max(...heaps) - before.heapUsed,
    rssGrowth: rss - before.rss,
  };
}

const mib = (n: number) => (n / MiB).toFixed(1);

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

describe('export: memory', () => {
  it(`holds as much for ${LARGE} objects as for ${SMALL}`, async () => {
    await putChat('79000000001@c.us', { objects: SMALL });
    await putChat('79000000002@c.us', { objects: LARGE });
    expect((await sealPending(c.sealer())).status).toBe('done');

    const small = await measure('79000000001@c.us');
    const large = await measure('79000000002@c.us');
    for (const [name, m] of [
      ['small', small],
      ['large', large],
    ] as const) {
      console.log(
        `export of ${m.result.objects} objects (${name}): ${m.seconds.toFixed(1)} s, zip ${mib(m.written)} MiB, ` +
          `heap after GC +${mib(m.heapGrowth)} MiB median, +${mib(m.heapPeakGrowth)} MiB at peak, rss +${mib(m.rssGrowth)} MiB at peak`,
      );
      expect(m.result.unsealed.count).toBe(0);
    }
    expect(large.result.objects / small.result.objects).toBeGreaterThan(9);
    // Ten times the objects: a list kept per object would grow the heap about tenfold. Below
    // a MiB the growth is the sampler's own noise, so the small run counts as at least one.
    const ratio = large.heapGrowth / Math.max(small.heapGrowth, MiB);
    console.log(`heap growth ratio, ${LARGE} : ${SMALL} objects = ${ratio.toFixed(2)}`);
    expect(ratio).toBeLessThan(2);
  }, 900_000);

  it(`streams ${FILES} files of ${FILE_MIB} MiB with RSS far below their size`, async () => {
    const sizes = Array.from({ length: FILES }, () => FILE_MIB * MiB);
    await putChat('79000000003@c.us', { big: sizes });
    expect((await sealPending(c.sealer())).status).toBe('done');
    const m = await measure('79000000003@c.us');
    const total = sizes.reduce((a, b) => a + b, 0);
    console.log(
      `export of ${FILES} × ${FILE_MIB} MiB: ${m.seconds.toFixed(1)} s, zip ${mib(m.written)} MiB, ` +
        `heap after GC +${mib(m.heapGrowth)} MiB median, rss +${mib(m.rssGrowth)} MiB at peak`,
    );
    expect(m.written).toBeGreaterThan(total);
    expect(m.result.unsealed.count).toBe(0);
    // A buffered file would show as RSS of at least its size; streamed, the export's RSS
    // grows by its buffers and the allocator's slack, well under half of one file.
    expect(m.rssGrowth).toBeLessThan((FILE_MIB * MiB) / 2);
  }, 900_000);
});
