import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import { ARCHIVE_QUEUE } from '@archiver/core';
import { failJobs } from './support/failed-jobs.js';
import { startReceiver, type TestReceiver } from './support/harness.js';
import './support/provided.js';

const ADMIN = { user: 'ops', password: 'dashboard-password-5b2e' };
const AUTH = {
  authorization: `Basic ${Buffer.from(`${ADMIN.user}:${ADMIN.password}`).toString('base64')}`,
};
const ADMIN_ENV = { ADMIN_USER: ADMIN.user, ADMIN_PASSWORD: ADMIN.password };
const API = `/admin/queues/api/queues/${ARCHIVE_QUEUE}`;

let writable: TestReceiver;
let byDefault: TestReceiver;

beforeAll(async () => {
  const redisUrl = inject('redisUrl');
  [writable, byDefault] = await Promise.all([
    startReceiver({ redisUrl, env: { ...ADMIN_ENV, ADMIN_READ_ONLY: 'false' } }),
    startReceiver({ redisUrl, env: ADMIN_ENV }),
  ]);
});
beforeEach(async () => {
  await writable.clean();
  await byDefault.clean();
});
afterAll(async () => {
  for (const receiver of [writable, byDefault]) {
    await receiver?.clean();
    await receiver?.close();
  }
});

function put(receiver: TestReceiver, path: string, headers: Record<string, string> = {}) {
  return fetch(`${receiver.url}${path}`, { method: 'PUT', headers: { ...AUTH, ...headers } });
}

const WITH_HEADER = { 'x-archiver-admin': '1' };

describe('dashboard: read-only by default', () => {
  it('without ADMIN_READ_ONLY, refuses a retry and says read-only', async () => {
    await failJobs(byDefault, 1);
    const res = await put(byDefault, `${API}/failed-0/retry`, WITH_HEADER);
    expect(res.status).toBe(405);
    expect(await byDefault.queue.getJobCountByTypes('failed')).toBe(1);
    const list = await fetch(`${byDefault.url}/admin/queues/api/queues`, { headers: AUTH });
    const body = (await list.json()) as { queues: { name: string; readOnlyMode: boolean }[] };
    expect(body.queues.find((q) => q.name === ARCHIVE_QUEUE)?.readOnlyMode).toBe(true);
  });
});

describe('dashboard with ADMIN_READ_ONLY=false', () => {
  it.each([
    ['empty', `${API}/empty`],
    ['obliterate', `${API}/obliterate`],
    ['clean failed', `${API}/clean/failed`],
    ['clean completed', `${API}/clean/completed`],
    ['another letter case', `/admin/queues/API/Queues/${ARCHIVE_QUEUE}/EMPTY`],
    ['a percent-encoded action', `${API}/%6fbliterate`],
    ['a trailing slash', `${API}/clean/failed/`],
  ])('refuses the queue-wide action: %s, and the jobs stay', async (_name, path) => {
    await failJobs(writable, 2);
    const res = await fetch(`${writable.url}${path}`, {
      method: 'PUT',
      headers: { ...AUTH, ...WITH_HEADER, 'content-type': 'application/json' },
      body: '{}',
    });
    expect(res.status).toBe(403);
    expect(await res.json()).toEqual({ ok: false, error: 'queue_wide_action_off' });
    expect(await writable.queue.getJobCountByTypes('failed')).toBe(2);
  });

  it('refuses a change without the admin header, as a cross-site request would send it', async () => {
    await failJobs(writable, 1);
    const res = await put(writable, `${API}/failed-0/retry`);
    expect(res.status).toBe(403);
    expect(await res.json()).toEqual({ ok: false, error: 'admin_header_required' });
    expect(await writable.queue.getJobCountByTypes('failed')).toBe(1);
  });

  it('refuses a form-encoded body even with the header, and adds no job', async () => {
    for (const contentType of ['application/x-www-form-urlencoded', 'text/plain']) {
      const res = await fetch(`${writable.url}${API}/add`, {
        method: 'POST',
        headers: { ...AUTH, ...WITH_HEADER, 'content-type': contentType },
        body: 'name=archive-file&data={}',
      });
      expect(res.status).toBe(415);
    }
    // A form cannot set the header at all: the same body without it is refused first.
    const form = await fetch(`${writable.url}${API}/add`, {
      method: 'POST',
      headers: { ...AUTH, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'name=archive-file',
    });
    expect(form.status).toBe(403);
    expect(await writable.jobs()).toHaveLength(0);
  });

  it('retries a failed job when asked with the header', async () => {
    await failJobs(writable, 1);
    const res = await put(writable, `${API}/failed-0/retry`, WITH_HEADER);
    expect(res.status).toBeLessThan(300);
    await expect.poll(() => writable.queue.getJobCountByTypes('failed')).toBe(0);
  });

  it('serves the page with the script that adds the header to its own requests', async () => {
    const page = await (await fetch(`${writable.url}/admin/queues`, { headers: AUTH })).text();
    expect(page).toMatch(/<head><script>.*X-Archiver-Admin.*<\/script>/s);
    expect(page).toContain('<base href="/admin/queues/"');
    const readOnlyPage = await (
      await fetch(`${byDefault.url}/admin/queues`, { headers: AUTH })
    ).text();
    expect(readOnlyPage).not.toContain('X-Archiver-Admin');
  });
});
