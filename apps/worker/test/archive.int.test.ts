import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createHash } from 'node:crypto';
import { S3Client } from '@aws-sdk/client-s3';
import { readKeptMessage, sidecarSchema } from '@archiver/core';
import {
  getObjectBytes,
  listAllKeys,
  listMultipartUploads,
  s3ClientConfig,
} from '@archiver/testkit';
import { MAX, WA, jobState, startPipeline, type Pipeline } from './harness.js';
import { fileJob, keysOf, type FileCase } from './corpus.js';

let p: Pipeline;
let s3: S3Client;
const bucket = () => inject('s3').bucket;

beforeAll(async () => {
  p = await startPipeline();
  s3 = new S3Client(s3ClientConfig(inject('s3')));
});
afterAll(async () => {
  await p?.close();
  s3?.destroy();
});

async function sidecarOf(key: string) {
  return sidecarSchema.parse(
    JSON.parse((await getObjectBytes(s3, bucket(), key)).toString('utf8')),
  );
}

async function waitForState(jobId: string, state: string, timeout = 20_000) {
  await expect.poll(() => jobState(p.queue, jobId), { timeout, interval: 50 }).toBe(state);
}

describe('archiving', () => {
  it('archives a mixed WhatsApp and MAX corpus of every file type, byte-exact, exactly once', async () => {
    const types = [
      'imageMessage',
      'videoMessage',
      'documentMessage',
      'audioMessage',
      'stickerMessage',
    ] as const;
    const hooks = [
      'incomingMessageReceived',
      'outgoingMessageReceived',
      'outgoingAPIMessageReceived',
    ] as const;
    const cases: FileCase[] = [];
    types.forEach((typeMessage, i) =>
      hooks.forEach((typeWebhook, j) => {
        cases.push({
          kind: 'whatsapp',
          idInstance: WA.idInstance,
          typeMessage,
          typeWebhook,
          chatId: '71234567890@c.us',
          idMessage: `WA${i}${j}MIX`,
          size: 1000 + i * 7919 + j,
        });
        if (typeMessage !== 'stickerMessage') {
          cases.push({
            kind: 'max',
            idInstance: MAX.idInstance,
            typeMessage,
            typeWebhook,
            chatId: '-10000000000000',
            idMessage: `1152066875714657${i}${j}`,
            size: 2000 + i * 13 + j,
          });
        }
      }),
    );
    cases.push({
      kind: 'whatsapp',
      idInstance: WA.idInstance,
      typeMessage: 'documentMessage',
      chatId: '79001234568@c.us',
      idMessage: 'UNICODE1',
      fileName: '../Договор №5\u202Egpj.pdf',
      mimeType: 'application/pdf',
    });
    cases.push({
      kind: 'whatsapp',
      idInstance: WA.idInstance,
      typeMessage: 'documentMessage',
      chatId: '79001234568@c.us',
      idMessage: 'LONGNAME',
      fileName: `${'ж'.repeat(300)}.pdf`,
    });
    // Two webhooks for one file; BullMQ gets one job.
    const jobs = cases.map((c) => fileJob(p.fake, c));
    const written = await Promise.all([...jobs, jobs[0]!].map((j) => p.writer.write(j.data)));
    expect(written.filter((w) => w.outcome === 'accepted')).toHaveLength(cases.length);
    expect(written.at(-1)?.outcome).toBe('duplicate');

    for (const w of written.slice(0, cases.length)) {
      await waitForState(w.jobId, 'completed', 60_000);
    }

    const keys = await listAllKeys(s3, bucket(), `${p.prefix}/`);
    expect(keys).toHaveLength(cases.length * 2);
    for (const job of jobs) {
      const { fileKey, sidecarKey } = keysOf(`${p.prefix}/`, job.data);
      const bytes = await getObjectBytes(s3, bucket(), fileKey);
      expect(createHash('sha256').update(bytes).digest('hex')).toBe(job.added.sha256);
      const sidecar = await sidecarOf(sidecarKey);
      expect(sidecar).toMatchObject({
        status: 'archived',
        key: fileKey,
        sha256: job.added.sha256,
        size: job.added.size,
        idInstance: job.data.idInstance,
        chatId: job.data.chatId,
        idMessage: job.data.idMessage,
        kind: job.data.kind,
        typeWebhook: job.data.typeWebhook,
        typeMessage: job.data.typeMessage,
        fileName: job.data.fileName,
        attempts: 1,
      });
      // The body the job kept, unpacked: the webhook as received, without thumbnails.
      expect(sidecar.message).toEqual(readKeptMessage(job.data.message));
      expect(sidecar.message).toMatchObject({ idMessage: job.data.idMessage });
      expect(JSON.stringify(sidecar.message)).not.toContain('jpegThumbnail');
    }
    const unicode = keysOf(`${p.prefix}/`, jobs.at(-2)!.data).fileKey;
    expect(unicode).not.toContain('\u202E');
    expect(unicode.split('/').slice(1)).not.toContain('..');
    expect(keys.every((k) => k.startsWith(`${p.prefix}/`))).toBe(true);
    expect(keys.every((k) => k.split('/').every((seg) => Buffer.byteLength(seg) <= 200))).toBe(
      true,
    );
  });

  it('treats a job for an already archived message as a duplicate without downloading again', async () => {
    const job = fileJob(p.fake, {
      kind: 'whatsapp',
      idInstance: WA.idInstance,
      typeMessage: 'imageMessage',
      chatId: '1@c.us',
      idMessage: 'DUP1',
    });
    const first = await p.writer.write(job.data);
    await waitForState(first.jobId, 'completed');
    expect(await p.writer.write(job.data)).toEqual({ outcome: 'duplicate', jobId: first.jobId });

    // Even with BullMQ's job and the dedupe marker gone, the sidecar stops a second copy.
    await (await p.queue.getJob(first.jobId))?.remove();
    await p.producer.del(`${p.prefix}:archive:done:${first.jobId}`);
    const calls = p.fake.count('downloadFile', { idInstance: WA.idInstance });
    const again = await p.writer.write({ ...job.data, source: 'replay' });
    expect(again.outcome).toBe('accepted');
    await waitForState(again.jobId, 'completed');
    expect((await p.queue.getJob(again.jobId))?.returnvalue).toMatchObject({ status: 'duplicate' });
    expect(p.fake.count('downloadFile', { idInstance: WA.idInstance })).toBe(calls);
  });

  it('retries 500s with backoff until the file is archived', async () => {
    const job = fileJob(p.fake, {
      kind: 'whatsapp',
      idInstance: WA.idInstance,
      typeMessage: 'documentMessage',
      chatId: '2@c.us',
      idMessage: 'FIVE00',
    });
    p.fake.scriptDownloadFile('FIVE00', [
      { status: 500, body: 'Internal error when downloading file' },
      { status: 500 },
      { status: 502 },
    ]);
    const { jobId } = await p.writer.write(job.data);
    await waitForState(jobId, 'completed');
    const sidecar = await sidecarOf(keysOf(`${p.prefix}/`, job.data).sidecarKey);
    expect(sidecar).toMatchObject({ status: 'archived', attempts: 4, sha256: job.added.sha256 });
  });

  it('retries a download cut short and leaves no partial object or multipart upload', async () => {
    const size = 20 * 1024 * 1024;
    const job = fileJob(p.fake, {
      kind: 'max',
      idInstance: MAX.idInstance,
      typeMessage: 'videoMessage',
      chatId: '10000000',
      idMessage: '2755232962562',
      size,
    });
    p.fake.scriptFile('2755232962562', [
      { truncateAfter: 9 * 1024 * 1024 },
      { truncateAfter: 100 },
    ]);
    const { jobId } = await p.writer.write(job.data);
    await waitForState(jobId, 'completed', 60_000);
    const { fileKey } = keysOf(`${p.prefix}/`, job.data);
    const bytes = await getObjectBytes(s3, bucket(), fileKey);
    expect(bytes.length).toBe(size);
    expect(createHash('sha256').update(bytes).digest('hex')).toBe(job.added.sha256);
    expect(await listMultipartUploads(s3, bucket(), `${p.prefix}/`)).toEqual([]);
    expect((await sidecarOf(keysOf(`${p.prefix}/`, job.data).sidecarKey)).attempts).toBe(3);
  });

  it('ends a message without a file as a permanent failure with its reason', async () => {
    const job = fileJob(p.fake, {
      kind: 'whatsapp',
      idInstance: WA.idInstance,
      typeMessage: 'audioMessage',
      chatId: '3@c.us',
      idMessage: 'NOFILE',
    });
    p.fake.scriptDownloadFile('NOFILE', [
      {
        status: 400,
        body: 'File message encrypted url not found by chatId 3@c.us and idMessage NOFILE',
      },
    ]);
    const { jobId } = await p.writer.write(job.data);
    await waitForState(jobId, 'failed');
    const failed = await p.queue.getJob(jobId);
    expect(failed?.failedReason).toMatch(/^permanent_failure: no_file: /);
    expect(failed?.attemptsMade).toBe(1);
    const { fileKey, sidecarKey } = keysOf(`${p.prefix}/`, job.data);
    expect(await sidecarOf(sidecarKey)).toMatchObject({
      status: 'permanent_failure',
      reason: { code: 'no_file' },
      intendedKey: fileKey,
    });
    expect((await listAllKeys(s3, bucket(), fileKey)).filter((k) => k === fileKey)).toEqual([]);
  });

  it('records {{SWE002}} as too large without calling Green-API', async () => {
    const job = fileJob(p.fake, {
      kind: 'whatsapp',
      idInstance: WA.idInstance,
      typeMessage: 'documentMessage',
      chatId: '4@c.us',
      idMessage: '3EB0D00923D87A3FA01BAE',
      downloadUrl: '{{SWE002}}',
    });
    expect(job.data.tooLarge).toBe(true);
    const before = p.fake.calls.filter((c) => c.method === 'downloadFile').length;
    const { jobId } = await p.writer.write(job.data);
    await waitForState(jobId, 'failed');
    expect(await sidecarOf(keysOf(`${p.prefix}/`, job.data).sidecarKey)).toMatchObject({
      status: 'permanent_failure',
      reason: { code: 'too_large' },
    });
    expect(p.fake.calls.filter((c) => c.method === 'downloadFile').length).toBe(before);
  });

  it('expires a job whose deadline has passed, keeping the last error as the reason', async () => {
    const old = fileJob(p.fake, {
      kind: 'whatsapp',
      idInstance: WA.idInstance,
      typeMessage: 'imageMessage',
      chatId: '5@c.us',
      idMessage: 'OLD1',
      timestamp: Math.floor(Date.now() / 1000) - 16 * 86_400,
    });
    const { jobId } = await p.writer.write(old.data);
    await waitForState(jobId, 'failed');
    expect((await p.queue.getJob(jobId))?.failedReason).toMatch(/^expired: deadline_passed: /);
    expect(await sidecarOf(keysOf(`${p.prefix}/`, old.data).sidecarKey)).toMatchObject({
      status: 'expired',
      reason: { code: 'deadline_passed' },
    });

    // Deadline 3 s away; Green-API keeps failing: retries stop at the deadline.
    const soon = fileJob(p.fake, {
      kind: 'whatsapp',
      idInstance: WA.idInstance,
      typeMessage: 'imageMessage',
      chatId: '5@c.us',
      idMessage: 'SOON1',
      timestamp: Math.floor(Date.now() / 1000) - 15 * 86_400 + 3,
    });
    p.fake.scriptDownloadFile(
      'SOON1',
      Array.from({ length: 500 }, () => ({ status: 503, body: 'Service Unavailable' })),
    );
    const second = await p.writer.write(soon.data);
    await waitForState(second.jobId, 'failed', 20_000);
    const sidecar = await sidecarOf(keysOf(`${p.prefix}/`, soon.data).sidecarKey);
    expect(sidecar).toMatchObject({
      status: 'expired',
      reason: { code: 'deadline_passed', error: expect.stringContaining('HTTP 503') },
    });
    expect(sidecar.attempts).toBeGreaterThan(1);
  });

  it('refuses a downloadUrl outside DOWNLOAD_HOSTS', async () => {
    const job = fileJob(p.fake, {
      kind: 'whatsapp',
      idInstance: WA.idInstance,
      typeMessage: 'imageMessage',
      chatId: '6@c.us',
      idMessage: 'SSRF1',
    });
    p.fake.scriptDownloadFile('SSRF1', [
      {
        status: 200,
        body: JSON.stringify({ downloadUrl: 'http://169.254.169.254/latest/meta-data/' }),
      },
    ]);
    const { jobId } = await p.writer.write(job.data);
    await waitForState(jobId, 'failed');
    expect((await p.queue.getJob(jobId))?.failedReason).toMatch(
      /^permanent_failure: download_host_not_allowed: download host not allowed: http:\/\/169\.254\.169\.254$/,
    );
  });

  it("refuses a downloadUrl on another port of the instance's own host (here: Redis)", async () => {
    const redisPort = new URL(inject('redisUrl')).port;
    const job = fileJob(p.fake, {
      kind: 'whatsapp',
      idInstance: WA.idInstance,
      typeMessage: 'imageMessage',
      chatId: '6@c.us',
      idMessage: 'SSRF2',
    });
    p.fake.scriptDownloadFile('SSRF2', [
      { status: 200, body: JSON.stringify({ downloadUrl: `http://127.0.0.1:${redisPort}/` }) },
    ]);
    const { jobId } = await p.writer.write(job.data);
    await waitForState(jobId, 'failed');
    expect((await p.queue.getJob(jobId))?.failedReason).toBe(
      `permanent_failure: download_host_not_allowed: download host not allowed: http://127.0.0.1:${redisPort}`,
    );
  });

  it('keeps every secret out of logs, job data and S3', async () => {
    const jobs = await p.queue.getJobs(['completed', 'failed'], 0, 1000);
    const everything = [p.logs.join('\n'), JSON.stringify(jobs.map((j) => j.asJSON()))];
    for (const key of await listAllKeys(s3, bucket(), `${p.prefix}/`)) {
      if (key.endsWith('message.json')) {
        everything.push((await getObjectBytes(s3, bucket(), key)).toString());
      }
    }
    for (const secret of [WA.apiTokenInstance, MAX.apiTokenInstance]) {
      for (const text of everything) expect(text).not.toContain(secret);
    }
    expect(p.logs.length).toBeGreaterThan(10);
  });
});
