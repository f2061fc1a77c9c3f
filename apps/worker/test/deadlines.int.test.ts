import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { S3Client } from '@aws-sdk/client-s3';
import { objectKeys, sidecarSchema } from '@archiver/core';
import { getObjectBytes, s3ClientConfig } from '@archiver/testkit';
import { WA, jobState, startPipeline, type Pipeline } from './harness.js';
import { fileJob } from './corpus.js';

const DAY_S = 86_400;
let p: Pipeline;
let s3: S3Client;

beforeAll(async () => {
  p = await startPipeline();
  s3 = new S3Client(s3ClientConfig(inject('s3')));
});
afterAll(async () => {
  await p?.close();
  s3?.destroy();
});

async function recordAt(key: string) {
  const bytes = await getObjectBytes(s3, inject('s3').bucket, key);
  return sidecarSchema.parse(JSON.parse(bytes.toString('utf8')));
}

function job(idMessage: string, timestamp: number) {
  return fileJob(p.fake, {
    kind: 'whatsapp',
    idInstance: WA.idInstance,
    typeMessage: 'imageMessage',
    chatId: '9@c.us',
    idMessage,
    timestamp,
  });
}

describe('deadlines', () => {
  it('gives an instance that cannot serve one more attempt before a near deadline', async () => {
    // Deadline 8 s away; the instance answers 401 once. A five-minute pause would pass the
    // deadline: the job wakes before it instead, and the file is had.
    const near = job('NEAR401', Math.floor(Date.now() / 1000) - 15 * DAY_S + 8);
    p.fake.scriptDownloadFile('NEAR401', [{ status: 401, body: 'Unauthorized' }]);
    const { jobId } = await p.writer.write(near.data);
    await expect
      .poll(() => jobState(p.queue, jobId), { timeout: 20_000, interval: 100 })
      .toBe('completed');
    const done = await p.queue.getJob(jobId);
    expect(done?.returnvalue).toMatchObject({ status: 'archived', sha256: near.added.sha256 });
  });

  it.each([
    ['a month ahead of its receipt', 'FUTURE1', Math.floor(Date.now() / 1000) + 30 * DAY_S],
    ['whose date folder would read NaN', 'NANDATE1', 9e12],
  ])('refuses a message time %s with a record, never parking it', async (_l, idMessage, ts) => {
    const odd = job(idMessage, ts);
    const { jobId } = await p.writer.write(odd.data);
    await expect
      .poll(() => jobState(p.queue, jobId), { timeout: 20_000, interval: 50 })
      .toBe('failed');
    const failed = await p.queue.getJob(jobId);
    expect(failed?.failedReason).toMatch(/^permanent_failure: implausible_timestamp: timestamp /);
    expect(failed?.attemptsMade).toBe(1);
    // Recorded under the day it was received, its own timestamp kept as sent.
    const { sidecarKey } = objectKeys({
      prefix: `${p.prefix}/`,
      ...odd.data,
      timestamp: Math.floor(odd.data.receivedAt / 1000),
    });
    expect(await recordAt(sidecarKey)).toMatchObject({
      status: 'permanent_failure',
      reason: { code: 'implausible_timestamp' },
      timestamp: ts,
    });
  });
});
