import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ARCHIVE_QUEUE } from '@archiver/core';
import { whatsappDocument } from './support/fixtures.js';
import { startReceiver, type TestReceiver } from './support/harness.js';
import './support/provided.js';

const ADMIN = { user: 'ops', password: 'dashboard-password-3a7d' };
const AUTH = {
  authorization: `Basic ${Buffer.from(`${ADMIN.user}:${ADMIN.password}`).toString('base64')}`,
};

let receiver: TestReceiver;

beforeAll(async () => {
  receiver = await startReceiver({
    redisUrl: inject('redisUrl'),
    env: { ADMIN_USER: ADMIN.user, ADMIN_PASSWORD: ADMIN.password, ADMIN_READ_ONLY: 'true' },
  });
});
afterAll(async () => {
  await receiver?.clean();
  await receiver?.close();
});

describe('dashboard job data', () => {
  it('shows a job as the worker reads it: the file facts and the body unpacked', async () => {
    expect((await receiver.post(whatsappDocument({ idMessage: 'DASH1' }))).status).toBe(200);
    const query = `activeQueue=${ARCHIVE_QUEUE}&status=prioritized&page=1&jobsPerPage=10`;
    const res = await fetch(`${receiver.url}/admin/queues/api/queues?${query}`, { headers: AUTH });
    expect(res.status).toBe(200);
    const body = (await res.json()) as {
      queues: { name: string; jobs: { data: Record<string, unknown> }[] }[];
    };
    const [job] = body.queues.find((q) => q.name === ARCHIVE_QUEUE)?.jobs ?? [];
    expect(job?.data).toMatchObject({
      source: 'webhook',
      idInstance: '1101000001',
      chatId: '71234567890@c.us',
      idMessage: 'DASH1',
      message: {
        idMessage: 'DASH1',
        instanceData: expect.objectContaining({ idInstance: 1101000001 }) as unknown,
      },
    });
  });
});
