import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { Worker } from 'bullmq';
import { ARCHIVE_QUEUE, createRedis } from '@archiver/core';
import { startReceiver, type TestReceiver } from './support/harness.js';
import './support/provided.js';

const ADMIN = { user: 'ops', password: 'dashboard-password-8e1c' };
const basic = (user: string, password: string) =>
  `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
const AUTH = { authorization: basic(ADMIN.user, ADMIN.password) };

let withAdmin: TestReceiver;
let withoutAdmin: TestReceiver;

beforeAll(async () => {
  const redisUrl = inject('redisUrl');
  [withAdmin, withoutAdmin] = await Promise.all([
    startReceiver({
      redisUrl,
      env: { ADMIN_USER: ADMIN.user, ADMIN_PASSWORD: ADMIN.password, ADMIN_READ_ONLY: 'true' },
    }),
    startReceiver({ redisUrl }),
  ]);
});
afterAll(async () => {
  for (const receiver of [withAdmin, withoutAdmin]) {
    await receiver?.clean();
    await receiver?.close();
  }
});

describe('health endpoints', () => {
  it('/healthz and /readyz answer 200 with Redis up', async () => {
    expect((await fetch(`${withoutAdmin.url}/healthz`)).status).toBe(200);
    expect((await fetch(`${withoutAdmin.url}/readyz`)).status).toBe(200);
  });

  it('sends neither ETag nor X-Powered-By', async () => {
    const res = await fetch(`${withoutAdmin.url}/healthz`);
    expect(res.headers.get('etag')).toBeNull();
    expect(res.headers.get('x-powered-by')).toBeNull();
  });

  it('/metrics serves Prometheus text with the contract names', async () => {
    const res = await fetch(`${withoutAdmin.url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/plain');
    const text = await res.text();
    for (const name of [
      'archiver_webhooks_total',
      'archiver_queue_jobs',
      'archiver_oldest_deadline_seconds',
    ]) {
      expect(text).toContain(name);
    }
  });
});

describe('/admin/queues', () => {
  it('is not mounted without ADMIN_USER/ADMIN_PASSWORD', async () => {
    expect((await fetch(`${withoutAdmin.url}/admin/queues`, { headers: AUTH })).status).toBe(404);
    expect(
      (await fetch(`${withoutAdmin.url}/admin/queues/api/queues`, { headers: AUTH })).status,
    ).toBe(404);
  });

  it.each([
    ['no credentials', {}],
    ['a wrong password', { authorization: basic(ADMIN.user, 'wrong') }],
    ['a wrong user', { authorization: basic('root', ADMIN.password) }],
    ['a bearer token', { authorization: `Bearer ${ADMIN.password}` }],
  ])('answers 401 with a Basic challenge for %s', async (_name, headers) => {
    for (const path of [
      '/admin/queues',
      '/admin/queues/api/queues',
      '/admin/queues/static/favicon-32x32.png',
    ]) {
      const res = await fetch(`${withAdmin.url}${path}`, { headers });
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toBe('Basic realm="archiver"');
    }
  });

  it('serves the dashboard under its base path with the right credentials', async () => {
    const page = await fetch(`${withAdmin.url}/admin/queues`, { headers: AUTH });
    expect(page.status).toBe(200);
    const html = await page.text();
    // The UI resolves its assets against <base href>, so the base path must reach the page.
    expect(html).toContain('<base href="/admin/queues/"');
    const asset = /static\/js\/main\.[^"']+\.js/.exec(html)?.[0];
    expect(asset).toBeDefined();
    expect((await fetch(`${withAdmin.url}/admin/queues/${asset}`, { headers: AUTH })).status).toBe(
      200,
    );
    expect(
      (await fetch(`${withAdmin.url}/admin/queues/queue/${ARCHIVE_QUEUE}`, { headers: AUTH }))
        .status,
    ).toBe(200);
  });

  it('lists a failed job with its failedReason and data, and refuses changes in read-only mode', async () => {
    const connection = createRedis(withAdmin.config.redisUrl, 'worker');
    const worker = new Worker(
      ARCHIVE_QUEUE,
      () => {
        throw new Error('permanent_failure: no_file: file message encrypted url not found');
      },
      { connection, prefix: withAdmin.prefix },
    );
    try {
      await withAdmin.queue.add(
        'archive-file',
        { chatId: '71234567890@c.us', idMessage: 'FAILED1' } as never,
        { jobId: 'failed-1', attempts: 1 },
      );
      await expect
        .poll(() => withAdmin.queue.getJobCountByTypes('failed'), { timeout: 10_000 })
        .toBe(1);
    } finally {
      await worker.close();
      connection.disconnect();
    }

    const query = `activeQueue=${ARCHIVE_QUEUE}&status=failed&page=1&jobsPerPage=10`;
    const res = await fetch(`${withAdmin.url}/admin/queues/api/queues?${query}`, { headers: AUTH });
    expect(res.status).toBe(200);
    const body = (await res.json()) as {
      queues: {
        name: string;
        readOnlyMode: boolean;
        jobs: { id: string; failedReason: string; data: unknown }[];
      }[];
    };
    const queue = body.queues.find((q) => q.name === ARCHIVE_QUEUE);
    expect(queue?.readOnlyMode).toBe(true);
    expect(queue?.jobs).toEqual([
      expect.objectContaining({
        id: 'failed-1',
        failedReason: 'permanent_failure: no_file: file message encrypted url not found',
        data: { chatId: '71234567890@c.us', idMessage: 'FAILED1' },
      }),
    ]);

    const retry = await fetch(
      `${withAdmin.url}/admin/queues/api/queues/${ARCHIVE_QUEUE}/failed-1/retry`,
      { method: 'PUT', headers: AUTH },
    );
    expect(retry.status).toBe(405);
    expect(await withAdmin.queue.getJobCountByTypes('failed')).toBe(1);
  });
});
