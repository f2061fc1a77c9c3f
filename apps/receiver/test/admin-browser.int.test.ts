import { mkdir } from 'node:fs/promises';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ARCHIVE_QUEUE } from '@archiver/core';
import { ARTEFACTS, hasChromium, launchChromium, CHROMIUM } from './support/browser.js';
import { failJobs } from './support/failed-jobs.js';
import { startReceiver, type TestReceiver } from './support/harness.js';
import './support/provided.js';

const ADMIN = { username: 'ops', password: 'dashboard-password-9c4d' };
if (!hasChromium) {
  console.warn(
    `dashboard browser test skipped: no chromium at ${CHROMIUM} (apt-get install chromium)`,
  );
}

// The guard refuses a changing request without X-Archiver-Admin; bull-board's own UI cannot
// add headers, so only the script the receiver injects makes its buttons work. Over HTTP
// that script is just a string: this drives the real page to show it does its job.
describe.skipIf(!hasChromium)('the dashboard in a real browser, ADMIN_READ_ONLY=false', () => {
  let receiver: TestReceiver;
  let browser: Browser;

  beforeAll(async () => {
    receiver = await startReceiver({
      redisUrl: inject('redisUrl'),
      env: {
        ADMIN_USER: ADMIN.username,
        ADMIN_PASSWORD: ADMIN.password,
        ADMIN_READ_ONLY: 'false',
      },
    });
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await receiver?.clean();
    await receiver?.close();
  });

  it("retries failed jobs from the dashboard's own button, carrying the header", async () => {
    await failJobs(receiver, 1);
    const context = await browser.newContext({ httpCredentials: ADMIN });
    const page = await context.newPage();
    await page.goto(`${receiver.url}/admin/queues/queue/${ARCHIVE_QUEUE}?status=failed`);

    const retried = page.waitForResponse(
      (r) => r.request().method() === 'PUT' && r.url().endsWith('/retry/failed'),
    );
    // The job card's own buttons are unlabelled icons; "Retry all" sends the same kind of
    // changing request through the same page.
    await page.getByRole('button', { name: 'Retry all', exact: true }).click();
    // bull-board may ask first, depending on its "confirm job actions" setting.
    const confirm = page.getByRole('button', { name: 'Confirm', exact: true });
    void confirm.waitFor({ state: 'visible', timeout: 15_000 }).then(
      () => confirm.click(),
      () => undefined,
    );
    const response = await retried;

    expect(await response.request().headerValue('x-archiver-admin')).toBe('1');
    expect(response.status()).toBe(200);
    await expect.poll(() => receiver.queue.getJobCountByTypes('failed')).toBe(0);
    expect(await receiver.queue.getJobCountByTypes('wait')).toBe(1);
    await mkdir(ARTEFACTS, { recursive: true });
    await page.screenshot({ path: `${ARTEFACTS}dashboard-retried.png`, fullPage: true });
    await context.close();
  });
});
