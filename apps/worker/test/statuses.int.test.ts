import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createHash } from 'node:crypto';
import { S3Client } from '@aws-sdk/client-s3';
import { Redis } from 'ioredis';
import {
  STATUSES_JOB,
  createStatusesQueue,
  sidecarSchema,
  type StatusesQueue,
} from '@archiver/core';
import { getObjectBytes, listAllKeys, s3ClientConfig, type StatusItem } from '@archiver/testkit';
import { startWorker } from '../src/app.js';
import { WA, startPipeline, type Pipeline } from './harness.js';

let p: Pipeline;
let s3: S3Client;
let queue: StatusesQueue;
let redis: Redis;
const bucket = () => inject('s3').bucket;
const now = () => Math.floor(Date.now() / 1000);

async function statusKeys(): Promise<string[]> {
  return listAllKeys(s3, bucket(), `${p.prefix}/whatsapp/${WA.idInstance}/status@broadcast/`);
}

async function until<T>(probe: () => Promise<T | undefined>, what: string, ms = 20_000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** archiver_statuses_recorded_total of the WhatsApp instance, as the worker exports it. */
async function statusesRecorded(direction: 'incoming' | 'outgoing'): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${p.worker!.port}/metrics`)).text();
  const series = `archiver_statuses_recorded_total{instance="${WA.idInstance}",direction="${direction}"} `;
  const line = text.split('\n').find((l) => l.startsWith(series));
  return line ? Number(line.slice(series.length)) : 0;
}

const image = Buffer.from('a status photo, bytes as posted');
const video = Buffer.from('a status video the account posted');
const t = now() - 3600;
const incomingText: StatusItem = {
  type: 'incoming',
  idMessage: 'BAE5STATUSTEXT01',
  timestamp: t,
  typeMessage: 'extendedTextMessage',
  chatId: '71234567890@c.us',
  senderId: '71234567890@c.us',
  senderName: 'Green API',
  textMessage: 'On holiday until Monday',
  extendedTextMessage: {
    text: 'On holiday until Monday',
    backgroundColor: '#228B22',
    font: 'SERIF',
  },
};
const incomingImage: StatusItem = {
  type: 'incoming',
  idMessage: 'BAE5STATUSIMG001',
  timestamp: t + 60,
  typeMessage: 'imageMessage',
  chatId: '71234567890@c.us',
  senderId: '71234567890@c.us',
  senderName: 'Green API',
  caption: 'the view',
  jpegThumbnail: '/9j/2wCEABALDA4MChAODQ4SERATGCgaGBYWGDEjJ',
};
const outgoingVideo: StatusItem = {
  type: 'outgoing',
  idMessage: 'BAE5STATUSVID001',
  timestamp: t + 120,
  typeMessage: 'videoMessage',
  chatId: '70000000001@c.us',
  participants: [],
  caption: 'I use Green-API to send this status!',
  statusMessage: 'sent',
  sendByApi: true,
};
const outgoingText: StatusItem = {
  type: 'outgoing',
  idMessage: 'BAE5STATUSTEXT02',
  timestamp: t + 180,
  typeMessage: 'extendedTextMessage',
  chatId: '70000000001@c.us',
  textMessage: 'I use Green-API to send this status!',
  statusMessage: 'pending',
  sendByApi: true,
};

beforeAll(async () => {
  // Interval a day: the scheduler's run falls at the instance's own point of it (spreadOffset),
  // not at start-up, so the reads below are the test's own.
  p = await startPipeline({ STATUSES_INTERVAL_MINUTES: '1440', BACKFILL_INTERVAL_MINUTES: '0' });
  s3 = new S3Client(s3ClientConfig(inject('s3')));
  redis = new Redis(p.config.redisUrl);
  queue = createStatusesQueue(redis, p.prefix);
});
afterAll(async () => {
  await queue?.close();
  await redis?.quit();
  await p?.close();
  s3?.destroy();
});

describe('statuses ("stories")', () => {
  it('keeps each status once, media through the file path, within its own budget', async () => {
    // Declared at start-up, run later: the scheduler's one job waits for its point.
    const scheduled = await until(async () => {
      const jobs = await queue.getJobs(['delayed']);
      return jobs.find((j) => j.id?.startsWith(`repeat:statuses-${WA.idInstance}:`));
    }, 'the scheduled read');
    expect(scheduled.delay).toBeGreaterThan(0);
    p.fake.addStatus(WA.idInstance, incomingText);
    const img = p.fake.addStatus(WA.idInstance, incomingImage, {
      file: { bytes: image, fileName: 'view.jpg', mimeType: 'image/jpeg' },
    });
    // downloadFile does not know this one: the status's own link is the file.
    const vid = p.fake.addStatus(WA.idInstance, outgoingVideo, {
      file: { bytes: video, fileName: 'clip.mp4', mimeType: 'video/mp4' },
      downloadFile: false,
    });
    p.fake.addStatus(WA.idInstance, outgoingText);
    p.fake.clearCalls();
    await queue.add(STATUSES_JOB, { idInstance: WA.idInstance }, { jobId: 'first' });

    const keys = await until(async () => {
      const found = await statusKeys();
      return found.length === 6 ? found : undefined;
    }, 'four records and two files');
    const day = new Date(t * 1000).toISOString().slice(0, 10).replaceAll('-', '/');
    const folder = `${p.prefix}/whatsapp/${WA.idInstance}/status@broadcast/${day}`;
    expect(keys).toEqual(
      [
        `${folder}/BAE5STATUSIMG001/message.json`,
        `${folder}/BAE5STATUSIMG001/view.jpg`,
        `${folder}/BAE5STATUSTEXT01/message.json`,
        `${folder}/BAE5STATUSTEXT02/message.json`,
        `${folder}/BAE5STATUSVID001/clip.mp4`,
        `${folder}/BAE5STATUSVID001/message.json`,
      ].sort(),
    );
    expect(await getObjectBytes(s3, bucket(), `${folder}/BAE5STATUSIMG001/view.jpg`)).toEqual(
      image,
    );
    expect(await getObjectBytes(s3, bucket(), `${folder}/BAE5STATUSVID001/clip.mp4`)).toEqual(
      video,
    );
    const readRecord = async (id: string) =>
      sidecarSchema.parse(
        JSON.parse(
          (await getObjectBytes(s3, bucket(), `${folder}/${id}/message.json`)).toString('utf8'),
        ),
      );
    await until(
      async () => ((await readRecord('BAE5STATUSVID001')).status === 'archived' ? true : undefined),
      'the video record',
    );
    const photo = await readRecord('BAE5STATUSIMG001');
    expect(photo).toMatchObject({
      status: 'archived',
      chatId: 'status@broadcast',
      source: 'statuses',
      sha256: createHash('sha256').update(image).digest('hex'),
      size: img?.size,
    });
    // The item as Green-API listed it, less its thumbnail.
    const { jpegThumbnail: _thumb, ...listed } = {
      ...incomingImage,
      downloadUrl: img?.downloadUrl,
    };
    expect(photo.message).toEqual({
      ...listed,
      fileName: 'view.jpg',
      mimeType: 'image/jpeg',
    });
    expect((await readRecord('BAE5STATUSVID001')).sha256).toBe(
      createHash('sha256').update(video).digest('hex'),
    );
    expect(vid?.downloadUrl).toBeDefined();
    const text = await readRecord('BAE5STATUSTEXT01');
    expect(text).toMatchObject({
      status: 'recorded',
      source: 'statuses',
      chatId: 'status@broadcast',
    });
    expect(text.message).toEqual(incomingText);
    // Counted once each, by direction: two incoming (text, photo), two outgoing (video, text).
    const counted = async () => ({
      incoming: await statusesRecorded('incoming'),
      outgoing: await statusesRecorded('outgoing'),
    });
    expect(await counted()).toEqual({ incoming: 2, outgoing: 2 });

    // The outgoing status moves (its timestamp is its last action's: a day later) and the
    // journal is read twice more: nothing is written twice, nothing downloaded again.
    p.fake.updateStatus(WA.idInstance, outgoingText.idMessage, {
      statusMessage: 'read',
      timestamp: t + 86_400,
    });
    p.fake.updateStatus(WA.idInstance, outgoingVideo.idMessage, {
      statusMessage: 'read',
      timestamp: t + 86_400,
    });
    const downloadsBefore = p.fake.count('downloadFile') + p.fake.count('file');
    const runs = await Promise.all(
      [1, 2].map((i) =>
        queue.add(STATUSES_JOB, { idInstance: WA.idInstance }, { jobId: `again-${i}` }),
      ),
    );
    for (const job of runs) {
      await until(
        async () => ((await job.getState()) === 'completed' ? true : undefined),
        'a read',
      );
    }
    const summaries = await Promise.all(
      runs.map(async (j) => (await queue.getJob(j.id!))?.returnvalue),
    );
    for (const s of summaries) {
      expect(s).toMatchObject({ scanned: 4, alreadyKnown: 4, files: 0, records: 0 });
    }
    expect(await statusKeys()).toEqual(keys);
    expect(p.fake.count('downloadFile') + p.fake.count('file')).toBe(downloadsBefore);
    expect(await counted()).toEqual({ incoming: 2, outgoing: 2 });

    // Each method's own budget: never two calls of one method within a second, no 429.
    for (const method of ['getIncomingStatuses', 'getOutgoingStatuses']) {
      const at = p.fake.calls.filter((c) => c.method === method && c.idInstance === WA.idInstance);
      expect(at.length).toBe(3);
      expect(at.every((c) => c.status === 200)).toBe(true);
      for (let i = 1; i < at.length; i += 1) {
        expect(at[i]!.at - at[i - 1]!.at).toBeGreaterThanOrEqual(1000);
      }
    }
  });

  it('runs on one scheduler per instance whatever the number of replicas', async () => {
    await p.restartWorker();
    const second = await startWorker(p.config, p.logger, {
      port: 0,
      s3: s3ClientConfig(inject('s3')),
    });
    try {
      const schedulers = (await queue.getJobSchedulers()).map((s) => s.key).sort();
      expect(schedulers).toEqual(['statuses-1101000001', 'statuses-3100000000']);
      // Three start-ups (the first, a restart, a second replica), one run per interval: the
      // one queued when the scheduler was first declared, waiting for its point.
      const scheduled = (await queue.getJobs(['completed', 'active', 'waiting', 'delayed'])).filter(
        (j) => j.id?.startsWith('repeat:statuses-1101000001:'),
      );
      expect(scheduled).toHaveLength(1);
      expect(await scheduled[0]?.getState()).toBe('delayed');
    } finally {
      await second.stop();
    }
  });
});
