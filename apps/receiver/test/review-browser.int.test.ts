import { createHash, randomUUID } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { Redis } from 'ioredis';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { listAllKeys, s3ClientConfig, unzip } from '@archiver/testkit';
import { ARTEFACTS, CHROMIUM, hasChromium, launchChromium } from './support/browser.js';
import { startReceiver, type TestReceiver } from './support/harness.js';
import { CHAT, DAY, INSTANCE, putConversation } from './support/review-data.js';
import './support/provided.js';

const REVIEW = { username: 'officer', password: 'review-password-77d1' };
if (!hasChromium) {
  console.warn(
    `review browser tests skipped: no chromium at ${CHROMIUM} (apt-get install chromium)`,
  );
}

describe.skipIf(!hasChromium)('the review page in a real browser, without JavaScript', () => {
  let receiver: TestReceiver;
  let browser: Browser;
  let s3: S3Client;
  let data: Awaited<ReturnType<typeof putConversation>>;
  const s3Prefix = `review-browser-${randomUUID().slice(0, 8)}/`;
  const conn = inject('s3');

  beforeAll(async () => {
    process.env.AWS_ACCESS_KEY_ID = conn.accessKeyId;
    process.env.AWS_SECRET_ACCESS_KEY = conn.secretAccessKey;
    receiver = await startReceiver({
      redisUrl: inject('redisUrl'),
      env: {
        REVIEW_USER: REVIEW.username,
        REVIEW_PASSWORD: REVIEW.password,
        S3_BUCKET: conn.bucket,
        S3_PREFIX: s3Prefix,
        S3_ENDPOINT: conn.endpoint,
        S3_REGION: conn.region,
      },
    });
    s3 = new S3Client(s3ClientConfig(conn));
    const redis = new Redis(inject('redisUrl'));
    data = await putConversation({
      s3,
      bucket: conn.bucket,
      prefix: s3Prefix,
      redis,
      queuePrefix: receiver.prefix,
    });
    await redis.quit();
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await receiver?.clean();
    await receiver?.close();
    s3?.destroy();
  });

  it('logs in, opens a chat, shows edits, deletions and custody, searches and downloads', async () => {
    const context = await browser.newContext({
      javaScriptEnabled: false,
      httpCredentials: REVIEW,
      acceptDownloads: true,
    });
    const page = await context.newPage();
    const violations: string[] = [];
    page.on('console', (m) => {
      // The CSP's refusals; the browser's own /favicon.ico 404 is not the page's.
      if (/content security policy|refused/i.test(m.text())) violations.push(m.text());
    });

    // Without credentials the browser gets the challenge, not the page.
    const anonymous = await browser.newContext();
    const refused = await anonymous.request.get(`${receiver.url}/review/`);
    expect(refused.status()).toBe(401);
    expect(refused.headers()['www-authenticate']).toContain('Basic');
    await anonymous.close();

    await page.goto(`${receiver.url}/review/`);
    await page.getByRole('link', { name: INSTANCE }).click();
    await page.getByRole('link', { name: CHAT }).click();
    await expect.poll(() => page.locator('h1').innerText()).toBe(`Chat ${CHAT}`);
    const imageLoaded = page.waitForResponse(
      (r) => r.url().includes('/file/') && r.url().includes('gate.png'),
    );
    await page.getByRole('link', { name: DAY }).click();

    // The edit, against the original; the deletion, with the text deleted.
    const edit = page.locator('li.entry.edit');
    await expect.poll(() => edit.locator('del').innerText()).toBe('Meet at five by the north gate');
    expect(await edit.locator('ins').innerText()).toBe('Meet at six by the north gate');
    const original = page.locator('li.entry', { hasText: 'Meet at five' }).first();
    expect(await original.locator('.mark.edited').count()).toBe(1);
    const deletion = page.locator('li.entry.delete');
    expect(await deletion.locator('.label').innerText()).toBe('Deleted');
    expect(await deletion.locator('del').innerText()).toBe('The shredding starts on Friday');
    // The reaction hangs on its message; the image is shown inline from the receiver.
    expect(await original.locator('ul.attached').innerText()).toContain('👍');
    const image = await imageLoaded;
    expect(image.status()).toBe(200);
    expect(image.headers()['content-type']).toBe('image/png');
    // Custody: sealed before the seal, waiting after it.
    expect(await original.locator('.custody.sealed').first().innerText()).toBe('record: sealed');
    const late = page.locator('li.entry', { hasText: 'Sent after the seal' });
    expect(await late.locator('.custody').innerText()).toBe('record: waiting');
    expect(await page.locator('.custody.breach').count()).toBe(0);

    await mkdir(ARTEFACTS, { recursive: true });
    await page.screenshot({ path: `${ARTEFACTS}review-day.png`, fullPage: true });

    // Search within the chat and a date range, then follow the hit to its day.
    await page.getByLabel('Text').fill('shredding');
    await page.getByRole('button', { name: 'Search' }).click();
    const hits = page.locator('ol.hits li.hit');
    await expect.poll(() => hits.count()).toBe(2);
    expect(await hits.first().innerText()).toContain('The shredding starts on Friday');
    expect(await page.locator('p.message').last().innerText()).toMatch(/^2 matches in 8 records/);
    await page.screenshot({ path: `${ARTEFACTS}review-search.png`, fullPage: true });
    await hits.first().locator('a').click();
    await expect.poll(() => page.url()).toContain(`/${DAY}#m-GONE01`);

    // Download the PDF through the page: the bytes are the archived bytes.
    const pdfEntry = page.locator('li.entry', { hasText: 'contract v2.pdf' });
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      pdfEntry.getByRole('link', { name: 'download' }).click(),
    ]);
    expect(download.suggestedFilename()).toBe('contract v2.pdf');
    const saved = await readFile((await download.path())!);
    const digest = (b: Buffer) => createHash('sha256').update(b).digest('hex');
    expect(digest(saved)).toBe(digest(data.pdf));

    // Export the day from the chat page's form: the same zip as `archiver export`.
    await page.locator('nav.crumbs').getByRole('link', { name: CHAT }).click();
    const form = page.locator('form.export');
    await form.getByLabel('From').fill(DAY);
    await form.getByLabel('To').fill(DAY);
    await form.getByLabel('Reason').fill('Case 4711, request of the regulator');
    const [exported] = await Promise.all([
      page.waitForEvent('download'),
      form.getByRole('button', { name: 'Export (zip)' }).click(),
    ]);
    expect(exported.suggestedFilename()).toBe(`export-${INSTANCE}-${CHAT}-${DAY}-${DAY}.zip`);
    const zip = await unzip((await exported.path())!);
    const names = [...zip.keys()];
    expect(names.at(-1)).toBe('manifest.json');
    const manifestBytes = zip.get('manifest.json')!;
    const manifest = JSON.parse(manifestBytes.toString()) as {
      format: string;
      selection: Record<string, string>;
      files: { path: string; sha256: string; size: number }[];
      objects: { key: string; path: string; proof: string | null }[];
    };
    expect(manifest.format).toBe('greenapi-archiver-export/1');
    expect(manifest.selection).toEqual({
      idInstance: INSTANCE,
      chatId: CHAT,
      since: DAY,
      until: DAY,
    });
    // Every entry but the manifest is listed with its digest; the PDF is the archived bytes.
    expect(manifest.files.map((f) => f.path).sort()).toEqual(names.slice(0, -1).sort());
    for (const f of manifest.files) expect(digest(zip.get(f.path)!)).toBe(f.sha256);
    const pdfObject = manifest.objects.find((o) => o.key === data.pdfKey)!;
    expect(digest(zip.get(pdfObject.path)!)).toBe(digest(data.pdf));
    // Sealed objects carry their proof; the one archived after the seal has none yet.
    expect(pdfObject.proof && zip.has(pdfObject.proof)).toBe(true);
    expect(manifest.objects.find((o) => o.key === data.lateKey)?.proof).toBeNull();
    expect(manifest.objects).toHaveLength(10); // 8 records, 2 files
    expect(violations).toEqual([]);
    await context.close();

    // Each view and the download is an audit record naming who asked.
    const auditKeys = (await listAllKeys(s3, conn.bucket, `${s3Prefix}_audit/`)) as string[];
    const audits = await Promise.all(
      auditKeys.map(async (key) => {
        const res = await s3.send(new GetObjectCommand({ Bucket: conn.bucket, Key: key }));
        return JSON.parse(await res.Body!.transformToString()) as {
          action: string;
          actor: string;
          reason?: string;
          selection: { key?: string };
          result?: { sha256: string; objects: number };
        };
      }),
    );
    // The day page was opened twice (from the chat, from the search hit): its image twice.
    // The export: a record before its first byte, one naming the manifest before it is written.
    expect(audits.map((a) => a.action).sort()).toEqual([
      'download',
      'export',
      'export',
      'view',
      'view',
    ]);
    const exports = audits.filter((a) => a.action === 'export');
    expect(exports.every((a) => a.reason === 'Case 4711, request of the regulator')).toBe(true);
    expect(exports.map((a) => a.result?.sha256)).toContain(digest(manifestBytes));
    expect(exports.find((a) => a.result)?.selection).toEqual(manifest.selection);
    const views = audits.filter((a) => a.action === 'view').map((a) => a.selection.key);
    expect(views.every((k) => k?.endsWith('/IMG001/gate.png'))).toBe(true);
    expect(audits.every((a) => a.actor.startsWith(`${REVIEW.username} `))).toBe(true);
    expect(audits.find((a) => a.action === 'download')?.selection.key).toBe(data.pdfKey);
  });
});
