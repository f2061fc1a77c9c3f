import { request } from 'node:http';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { archiveJobId, readKeptMessage } from '@archiver/core';
import { WEBHOOK_PATH } from '../src/app.js';
import {
  INSTANCES,
  OTHER_TYPES,
  TOKENS,
  maxImage,
  textMessage,
  whatsappDocument,
} from './support/fixtures.js';
import { metricValue, startReceiver, type TestReceiver } from './support/harness.js';
import './support/provided.js';

const ALL_SECRETS = [...Object.values(TOKENS)];

let receiver: TestReceiver;

beforeAll(async () => {
  receiver = await startReceiver({ redisUrl: inject('redisUrl'), env: { QUARANTINE_MAX: '3' } });
});
afterEach(async () => {
  await receiver.clean();
});
afterAll(async () => {
  await receiver?.close();
});

/** The job's whole hash as text, its kept body unpacked, to search for what must not be there. */
async function storedJobJson(jobId: string): Promise<string> {
  const hash = await receiver.redis.hgetall(receiver.keys.job(jobId));
  const data = JSON.parse(hash.data ?? '{}') as { message: string };
  const message = readKeptMessage(data.message);
  expect(message).toBeDefined();
  return JSON.stringify({ ...hash, data: { ...data, message } });
}

describe('file webhooks', () => {
  it('stores a WhatsApp document as exactly one job, without thumbnail or secrets', async () => {
    const res = await receiver.post(whatsappDocument());
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: true });

    const jobs = await receiver.jobs();
    expect(jobs).toHaveLength(1);
    const job = jobs[0]!;
    expect(job.id).toBe(archiveJobId('1101000001', '71234567890@c.us', '02392146E5104CE93C'));
    expect((await receiver.files())[0]).toMatchObject({
      source: 'webhook',
      idInstance: '1101000001',
      kind: 'whatsapp',
      chatId: '71234567890@c.us',
      idMessage: '02392146E5104CE93C',
      timestamp: 1705473041,
      typeWebhook: 'incomingMessageReceived',
      typeMessage: 'documentMessage',
      fileName: 'sample-6s.mp3',
      mimeType: 'audio/mpeg',
      tooLarge: false,
    });
    const stored = await storedJobJson(job.id!);
    expect(stored).not.toContain('jpegThumbnail');
    for (const secret of ALL_SECRETS) expect(stored).not.toContain(secret);
  });

  it('stores a MAX image (shared token, configured kind) and drops its base64 thumbnail', async () => {
    const res = await receiver.post(maxImage(), { token: TOKENS.shared });
    expect(res.status).toBe(200);

    const jobs = await receiver.jobs();
    expect(jobs).toHaveLength(1);
    expect((await receiver.files())[0]).toMatchObject({
      idInstance: '3100000000',
      kind: 'max',
      chatId: '10000000',
      idMessage: '2755232962562',
    });
    const stored = await storedJobJson(jobs[0]!.id!);
    expect(stored).not.toContain('jpegThumbnail');
    expect(stored).not.toContain('UklGRjoAAABXRUJQ');
    for (const secret of ALL_SECRETS) expect(stored).not.toContain(secret);
  });

  it('answers 200 to a duplicate and still holds one job', async () => {
    expect((await receiver.post(whatsappDocument())).status).toBe(200);
    expect((await receiver.post(whatsappDocument())).status).toBe(200);
    expect(await receiver.jobs()).toHaveLength(1);
    const metrics = await receiver.metricsText();
    expect(
      metricValue(metrics, 'archiver_webhooks_total', {
        type: 'incomingMessageReceived',
        outcome: 'duplicate',
      }),
    ).toBeGreaterThanOrEqual(1);
  });

  it('stores one job for 50 concurrent identical posts', async () => {
    const statuses = await Promise.all(
      Array.from({ length: 50 }, async () => (await receiver.post(whatsappDocument())).status),
    );
    expect(statuses).toEqual(Array.from({ length: 50 }, () => 200));
    expect(await receiver.jobs()).toHaveLength(1);
  });
});

describe('other webhooks', () => {
  it('answers 200 to every other known type once its record job is stored, and counts it', async () => {
    for (const body of Object.values(OTHER_TYPES)) {
      const token = body.instanceData.idInstance === 3100000000 ? TOKENS.shared : TOKENS.whatsapp1;
      expect((await receiver.post(body, { token })).status).toBe(200);
    }
    expect((await receiver.post(textMessage())).status).toBe(200);
    expect(await receiver.jobs()).toHaveLength(0);
    const records = await receiver.recordJobs();
    expect(records.map((j) => j.data.typeWebhook).sort()).toEqual(
      [...Object.keys(OTHER_TYPES), 'incomingMessageReceived'].sort(),
    );
    expect(await receiver.quarantine.size()).toBe(0);

    const metrics = await receiver.metricsText();
    for (const type of Object.keys(OTHER_TYPES)) {
      expect(
        metricValue(metrics, 'archiver_webhooks_total', { type, outcome: 'accepted' }),
      ).toBeGreaterThanOrEqual(1);
    }
    expect(
      metricValue(metrics, 'archiver_webhooks_total', {
        type: 'incomingMessageReceived',
        outcome: 'accepted',
      }),
    ).toBeGreaterThanOrEqual(1);
    expect(
      metricValue(metrics, 'archiver_webhooks_by_instance_total', { instance: '3100000000' }),
    ).toBeGreaterThanOrEqual(1);
  });

  it('quarantines an authenticated but unrecognised body with a 200', async () => {
    const odd = {
      typeWebhook: 'brandNewWebhook',
      instanceData: { idInstance: 1101000001 },
      payload: 1,
    };
    expect((await receiver.post(odd)).status).toBe(200);
    // No usable idInstance: authenticated by any configured token, then quarantined.
    expect((await receiver.post({ hello: 'world' }, { token: TOKENS.shared })).status).toBe(200);

    const entries = await receiver.quarantine.list();
    expect(entries.map((e) => JSON.parse(e.body) as unknown)).toEqual([{ hello: 'world' }, odd]);
    expect(entries[1]).toMatchObject({ idInstance: '1101000001', typeWebhook: 'brandNewWebhook' });
    expect(await receiver.jobs()).toHaveLength(0);
    const metrics = await receiver.metricsText();
    // An unknown typeWebhook does not become a label value.
    expect(
      metricValue(metrics, 'archiver_webhooks_total', { type: 'unknown', outcome: 'quarantined' }),
    ).toBeGreaterThanOrEqual(2);
    expect(metrics).not.toContain('brandNewWebhook');
  });

  it('quarantines a file webhook whose message time is far ahead, or not a date', async () => {
    const ahead = { ...whatsappDocument({ idMessage: 'AHEAD1' }), timestamp: 4_102_444_800 };
    const nan = { ...whatsappDocument({ idMessage: 'NAN1' }), timestamp: 9e12 };
    expect((await receiver.post(ahead)).status).toBe(200);
    expect((await receiver.post(nan)).status).toBe(200);
    expect(await receiver.jobs()).toHaveLength(0);
    const entries = await receiver.quarantine.list();
    expect(entries.map((e) => e.reason)).toEqual([
      expect.stringMatching(/^timestamp 9000000000000 is not a date/),
      expect.stringMatching(/^timestamp 4102444800 is \d+ h after/),
    ]);
  });

  it('keeps only the newest QUARANTINE_MAX bodies', async () => {
    for (let i = 0; i < 5; i += 1) {
      expect(
        (
          await receiver.post({
            typeWebhook: 'odd',
            n: i,
            instanceData: { idInstance: 1101000001 },
          })
        ).status,
      ).toBe(200);
    }
    expect(await receiver.quarantine.size()).toBe(3);
    const kept = (await receiver.quarantine.list()).map(
      (e) => (JSON.parse(e.body) as { n: number }).n,
    );
    expect(kept).toEqual([4, 3, 2]);
  });
});

describe('refused webhooks store nothing', () => {
  afterEach(async () => {
    expect(await receiver.jobs()).toHaveLength(0);
    expect(await receiver.quarantine.size()).toBe(0);
  });

  it('400 for a body that is not JSON', async () => {
    const res = await receiver.post('{"typeWebhook": "incomingMessageReceived",');
    expect(res.status).toBe(400);
    expect((await receiver.post('')).status).toBe(400);
  });

  it.each([
    ['no Authorization header', { token: null }],
    ['a wrong token', { token: 'not-the-token' }],
    ["another instance's token", { token: TOKENS.shared }],
    ['the global token for an instance that has its own', { token: TOKENS.global }],
    [
      'Basic credentials',
      { authorization: `Basic ${Buffer.from(`x:${TOKENS.whatsapp1}`).toString('base64')}` },
    ],
  ])('401 for %s', async (_name, init) => {
    const res = await receiver.post(whatsappDocument(), init);
    expect(res.status).toBe(401);
  });

  it('401 for an unconfigured instance unless the global token is used', async () => {
    expect((await receiver.post(whatsappDocument({ idInstance: 1234567 }))).status).toBe(401);
    expect((await receiver.post({ hello: 1 }, { token: 'nope' })).status).toBe(401);
  });

  it('413 for a body over the cap (declared length), before reading it', async () => {
    const big = { ...whatsappDocument(), padding: 'x'.repeat(20 * 1024) };
    const res = await receiver.post(big);
    expect(res.status).toBe(413);
  });

  it('413 for a chunked body that grows over the cap', async () => {
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(`${receiver.url}${WEBHOOK_PATH}`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${TOKENS.whatsapp1}`,
          'content-type': 'application/json',
          'transfer-encoding': 'chunked',
        },
      });
      req.on('response', (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      // The server may close the connection while we are still writing: only the answer matters.
      req.on('error', (err) => (req.writableEnded ? undefined : reject(err)));
      const chunk = Buffer.alloc(4096, 0x20);
      req.write('{"a":"');
      for (let i = 0; i < 8; i += 1) req.write(chunk);
      req.end('"}');
    });
    expect(status).toBe(413);
  });
});

describe('token forms', () => {
  it.each([
    ['Bearer', `Bearer ${TOKENS.whatsapp1}`],
    ['lower-case bearer', `bearer ${TOKENS.whatsapp1}`],
    ['raw token', TOKENS.whatsapp1],
  ])('accepts %s', async (_name, authorization) => {
    expect((await receiver.post(whatsappDocument(), { authorization })).status).toBe(200);
    expect(await receiver.jobs()).toHaveLength(1);
  });

  it('answers the global token for an instance not configured here, and quarantines the body', async () => {
    expect(
      (await receiver.post(whatsappDocument({ idInstance: 1234567 }), { token: TOKENS.global }))
        .status,
    ).toBe(200);
    expect(await receiver.jobs()).toHaveLength(0);
    expect((await receiver.quarantine.list())[0]?.idInstance).toBe('1234567');
  });
});

// The webhook route is dispatched before Express's router (app.ts); these pin what it matches.
describe('webhook path', () => {
  it.each([
    ['a query string', `${WEBHOOK_PATH}?source=green-api`],
    ['a trailing slash', `${WEBHOOK_PATH}/`],
    ['other letter cases', '/Webhooks/Green-API'],
  ])('accepts the path with %s', async (_name, path) => {
    expect((await receiver.post(whatsappDocument(), { path })).status).toBe(200);
    expect(await receiver.jobs()).toHaveLength(1);
  });

  it.each([
    ['a longer path', `${WEBHOOK_PATH}-x`],
    ['a sub-path', `${WEBHOOK_PATH}/x`],
  ])('answers 404 to %s and stores nothing', async (_name, path) => {
    expect((await receiver.post(whatsappDocument(), { path })).status).toBe(404);
    expect(await receiver.jobs()).toHaveLength(0);
  });

  it('answers 404 to a GET of the webhook path', async () => {
    const res = await fetch(`${receiver.url}${WEBHOOK_PATH}`);
    expect(res.status).toBe(404);
  });
});

describe('metrics and logs', () => {
  it('counts refusals by outcome', async () => {
    await receiver.post(whatsappDocument(), { token: null });
    await receiver.post('nope');
    const metrics = await receiver.metricsText();
    expect(
      metricValue(metrics, 'archiver_webhooks_total', { type: 'unknown', outcome: 'unauthorized' }),
    ).toBeGreaterThanOrEqual(1);
    expect(
      metricValue(metrics, 'archiver_webhooks_total', { type: 'unknown', outcome: 'invalid_json' }),
    ).toBeGreaterThanOrEqual(1);
    expect(metrics).toContain('archiver_queue_jobs');
  });

  it('logs one line per webhook, a warning with the idInstance for a 401, and never a token', async () => {
    await receiver.post(whatsappDocument(), { token: TOKENS.shared });
    await receiver.post(whatsappDocument());
    const lines = receiver.logLines().filter((line) => line.component === 'webhook');
    expect(
      lines.some(
        (l) => l.level === 40 && l.idInstance === '1101000001' && l.reason === 'other_instance',
      ),
    ).toBe(true);
    expect(lines.some((l) => l.level === 20 && l.outcome === 'accepted')).toBe(true);
    const all = receiver.logs();
    for (const secret of ALL_SECRETS) expect(all).not.toContain(secret);
  });
});

describe('ALLOW_UNAUTHENTICATED_WEBHOOKS=true', () => {
  it('accepts webhooks without a token', async () => {
    const open = await startReceiver({
      redisUrl: inject('redisUrl'),
      env: {
        ALLOW_UNAUTHENTICATED_WEBHOOKS: 'true',
        WEBHOOK_TOKEN: '',
        GREEN_API_INSTANCES: JSON.stringify(INSTANCES.map(({ webhookToken: _, ...rest }) => rest)),
      },
    });
    try {
      expect((await open.post(whatsappDocument(), { token: null })).status).toBe(200);
      expect((await open.post(maxImage(), { token: 'anything' })).status).toBe(200);
      expect(await open.jobs()).toHaveLength(2);
    } finally {
      await open.clean();
      await open.close();
    }
  });
});
