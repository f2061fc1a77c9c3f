import { createHash, randomUUID } from 'node:crypto';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { getObjectBytes, listAllKeys, s3ClientConfig } from '@archiver/testkit';
import { spawnApp } from '../../worker/test/process.js';
import { startReceiver, type TestReceiver } from './support/harness.js';
import { CHAT, DAY, INSTANCE, putConversation } from './support/review-data.js';
import './support/provided.js';

const REVIEW = { user: 'officer', password: 'review-password-3f9a' };
const basic = (user: string, password: string) =>
  `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
const AUTH = { authorization: basic(REVIEW.user, REVIEW.password) };
const chatUrl = `/review/whatsapp/${INSTANCE}/${encodeURIComponent(CHAT)}/`;

let withReview: TestReceiver;
let withoutReview: TestReceiver;
let withoutS3: TestReceiver;
let data: Awaited<ReturnType<typeof putConversation>>;
const audits: unknown[] = [];
const s3Prefix = `review-http-${randomUUID().slice(0, 8)}/`;

beforeAll(async () => {
  const conn = inject('s3');
  // The receiver's S3 client takes credentials from the standard chain, as in production.
  process.env.AWS_ACCESS_KEY_ID = conn.accessKeyId;
  process.env.AWS_SECRET_ACCESS_KEY = conn.secretAccessKey;
  const redisUrl = inject('redisUrl');
  const env = {
    REVIEW_USER: REVIEW.user,
    REVIEW_PASSWORD: REVIEW.password,
    S3_BUCKET: conn.bucket,
    S3_PREFIX: s3Prefix,
    S3_ENDPOINT: conn.endpoint,
    S3_REGION: conn.region,
  };
  [withReview, withoutReview, withoutS3] = await Promise.all([
    startReceiver({
      redisUrl,
      env,
      review: { audit: async (r) => void audits.push(r) },
    }),
    startReceiver({ redisUrl }),
    startReceiver({
      redisUrl,
      env: { REVIEW_USER: REVIEW.user, REVIEW_PASSWORD: REVIEW.password },
    }),
  ]);
  const redis = new Redis(redisUrl);
  const s3 = new S3Client(s3ClientConfig(conn));
  data = await putConversation({
    s3,
    bucket: conn.bucket,
    prefix: s3Prefix,
    redis,
    queuePrefix: withReview.prefix,
  });
  await redis.quit();
  s3.destroy();
});

afterAll(async () => {
  for (const r of [withReview, withoutReview, withoutS3]) {
    await r?.clean();
    await r?.close();
  }
});

describe('/review credentials', () => {
  it('is not there at all without REVIEW_USER/REVIEW_PASSWORD', async () => {
    for (const path of ['/review', '/review/', chatUrl, '/review/assets/timeline.css']) {
      expect((await fetch(`${withoutReview.url}${path}`, { headers: AUTH })).status).toBe(404);
    }
  });

  it('refuses to start the receiver when only one of them is set', async () => {
    const app = spawnApp('receiver', {
      REDIS_URL: inject('redisUrl'),
      WEBHOOK_TOKEN: 'x'.repeat(16),
      REVIEW_USER: 'officer',
    });
    const [code] = await app.exited;
    expect(code).toBe(1);
    expect(app.output()).toContain('REVIEW_USER and REVIEW_PASSWORD: set both');
    expect(app.output()).not.toContain('listening');
  });

  it.each([
    ['no credentials', {}],
    ['a wrong password', { authorization: basic(REVIEW.user, 'wrong') }],
    ['a wrong user', { authorization: basic('officer2', REVIEW.password) }],
    ['the right password as a bearer token', { authorization: `Bearer ${REVIEW.password}` }],
  ])('answers 401 with a Basic challenge for %s', async (_name, headers) => {
    for (const path of ['/review/', chatUrl, `${chatUrl}${DAY}`, '/review/assets/review.css']) {
      const res = await fetch(`${withReview.url}${path}`, { headers });
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toMatch(/^Basic realm="archiver review"/);
    }
  });

  it('serves the pages with the credentials, under a strict CSP', async () => {
    const res = await fetch(`${withReview.url}/review/`, { headers: AUTH });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-security-policy')).toContain("default-src 'self'");
    expect(res.headers.get('content-security-policy')).toContain("script-src 'none'");
    const html = await res.text();
    expect(html).toContain(`>${INSTANCE}</a>`);
    expect(html).not.toMatch(/<script|\sstyle=/i);
  });

  it('says so when S3 is not configured on the receiver', async () => {
    const res = await fetch(`${withoutS3.url}/review/`, { headers: AUTH });
    expect(res.status).toBe(503);
    expect(await res.text()).toContain('S3 is not configured on this receiver');
  });
});

describe('/review paths', () => {
  it.each([
    ['a kind that is not one', '/review/telegram/1101000001/'],
    ['an instance that is not digits', '/review/whatsapp/..%2F_custody/'],
    ['a chat that climbs out', `/review/whatsapp/${INSTANCE}/..%2F..%2F_custody/`],
    ['a chat of the archiver’s own folders', `/review/whatsapp/${INSTANCE}/_instance/`],
    ['a date that is not one', `${chatUrl}2026-02-30`],
    [
      'a file name with a separator',
      `${chatUrl}file/${DAY}/FILE01/..%2F..%2F..%2F_custody%2Fseals%2F000000000001.json`,
    ],
    ['a backslash in a message id', `${chatUrl}file/${DAY}/FILE01%5C..%5C..%5C/message.json`],
    ['a search without text', `${chatUrl}search?q=`],
  ])('refuses %s with 400, reading nothing', async (_name, path) => {
    const res = await fetch(`${withReview.url}${path}`, { headers: AUTH });
    expect(res.status).toBe(400);
  });

  it('lists the instance’s chats with counts and last activity', async () => {
    const html = await (
      await fetch(`${withReview.url}/review/whatsapp/${INSTANCE}/`, { headers: AUTH })
    ).text();
    // 8 records + 2 files.
    expect(html).toMatch(new RegExp(`<bdi>${CHAT}</bdi></a></td><td class="num">10</td>`));
    expect(html).toContain(`>${DAY}</a>`);
  });

  it('streams a file with its type and name, and audits the download', async () => {
    const before = audits.length;
    const fileUrl = `${chatUrl}file/${DAY}/FILE01/${encodeURIComponent('contract v2.pdf')}?download=1`;
    const res = await fetch(`${withReview.url}${fileUrl}`, { headers: AUTH });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/pdf');
    expect(res.headers.get('content-disposition')).toContain('attachment;');
    expect(res.headers.get('content-disposition')).toContain("filename*=UTF-8''contract%20v2.pdf");
    const bytes = Buffer.from(await res.arrayBuffer());
    expect(createHash('sha256').update(bytes).digest('hex')).toBe(
      createHash('sha256').update(data.pdf).digest('hex'),
    );
    expect(audits.slice(before)).toEqual([
      expect.objectContaining({
        action: 'download',
        actor: expect.stringContaining(REVIEW.user),
        selection: expect.objectContaining({ key: data.pdfKey, chatId: CHAT }),
      }),
    ]);
  });

  it('exports only on a form POST from the page itself, refusing before any audit record', async () => {
    const before = audits.length;
    const url = `${withReview.url}${chatUrl}export`;
    const get = await fetch(`${url}?since=${DAY}`, { headers: AUTH });
    expect(get.status).toBe(405);
    expect(get.headers.get('allow')).toBe('POST');
    const post = (body: Record<string, string>, headers: Record<string, string> = {}) =>
      fetch(url, {
        method: 'POST',
        headers: { ...AUTH, 'content-type': 'application/x-www-form-urlencoded', ...headers },
        body: new URLSearchParams(body),
      });
    expect((await post({ since: DAY }, { 'sec-fetch-site': 'cross-site' })).status).toBe(403);
    expect((await post({ since: DAY }, { origin: 'https://elsewhere.example' })).status).toBe(403);
    expect((await post({ since: '2026-12-01', until: DAY })).status).toBe(400);
    expect((await post({ reason: 'case \u202e1147' })).status).toBe(400);
    expect(audits.length).toBe(before);

    // The form as a browser sends it with nothing filled in: empty fields, a whole-chat export.
    const all = await post({ since: '', until: '', reason: '' });
    expect(all.status).toBe(200);
    expect(all.headers.get('content-type')).toBe('application/zip');
    const zip = Buffer.from(await all.arrayBuffer());
    expect(zip.subarray(0, 4).toString('hex')).toBe('504b0304');
    expect(audits.slice(before)).toEqual([
      expect.objectContaining({
        action: 'export',
        selection: { idInstance: INSTANCE, chatId: CHAT },
      }),
      expect.objectContaining({
        action: 'export',
        result: expect.objectContaining({ objects: 10 }),
      }),
    ]);
    // The same for the search form's empty dates.
    const search = await fetch(`${withReview.url}${chatUrl}search?q=gate&since=&until=`, {
      headers: AUTH,
    });
    expect(search.status).toBe(200);
  });

  it('answers 404 for a file that is not there', async () => {
    const res = await fetch(`${withReview.url}${chatUrl}file/${DAY}/FILE01/nothing.pdf`, {
      headers: AUTH,
    });
    expect(res.status).toBe(404);
  });
});

// Last: it changes the conversation the tests above read.
describe('custody status on the day page', () => {
  it('compares SHA-256 where the page has one: a record or file changed at the same size is a breach', async () => {
    const conn = inject('s3');
    const s3 = new S3Client(s3ClientConfig(conn));
    const dayPage = async () =>
      (await fetch(`${withReview.url}${chatUrl}${DAY}`, { headers: AUTH })).text();
    const entryOf = (html: string, id: string) => {
      const at = html.indexOf(`id="m-${id}"`);
      return html.slice(at, html.indexOf('</li>\n', at));
    };
    expect(await dayPage()).not.toContain('custody breach');

    const keys = (await listAllKeys(s3, conn.bucket, s3Prefix)) as string[];
    const rewrite = async (idMessage: string, change: (text: string) => string) => {
      const key = keys.find((k) => k.endsWith(`/${idMessage}/message.json`))!;
      const before = (await getObjectBytes(s3, conn.bucket, key)).toString();
      const after = change(before);
      expect(after).not.toBe(before);
      expect(Buffer.byteLength(after)).toBe(Buffer.byteLength(before));
      await s3.send(new PutObjectCommand({ Bucket: conn.bucket, Key: key, Body: after }));
    };
    // The same size, other bytes: only the digest can tell.
    await rewrite('GONE01', (t) => t.replace('Friday', 'Monday'));
    // The file's record names another SHA-256 than the file's sealed entry.
    await rewrite('FILE01', (t) =>
      t.replace(/"sha256":"(.)/, (_m, c: string) => `"sha256":"${c === '0' ? '1' : '0'}`),
    );
    s3.destroy();

    const html = await dayPage();
    expect(entryOf(html, 'GONE01')).toContain('record: breach changed');
    expect(entryOf(html, 'FILE01')).toContain('record: breach changed');
    expect(entryOf(html, 'FILE01')).toContain('file: breach changed');
    expect(entryOf(html, 'ORIG01')).toContain('record: sealed');
    expect(entryOf(html, 'IMG001')).toContain('file: sealed');
  });
});
