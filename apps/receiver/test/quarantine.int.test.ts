import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { maxImage } from './support/fixtures.js';
import { metricValue, startReceiver, type TestReceiver } from './support/harness.js';
import './support/provided.js';

const MAX_BYTES = 4000;
let receiver: TestReceiver;

beforeAll(async () => {
  receiver = await startReceiver({
    redisUrl: inject('redisUrl'),
    env: { QUARANTINE_MAX: '4', QUARANTINE_MAX_BYTES: String(MAX_BYTES) },
  });
});
afterEach(async () => {
  await receiver.clean();
});
afterAll(async () => {
  await receiver?.close();
});

/** An unrecognised body from a configured instance, padded to about `size` bytes. */
function oddBody(n: number, size = 200) {
  const body = { typeWebhook: 'brandNewWebhook', instanceData: { idInstance: 1101000001 }, n };
  const padding = Math.max(0, size - JSON.stringify(body).length - 12);
  return { ...body, pad: 'p'.repeat(padding) };
}

async function dropped(reason: 'count' | 'bytes'): Promise<number> {
  return metricValue(await receiver.metricsText(), 'archiver_quarantine_dropped_total', {
    reason,
  });
}

/** Sum of the stored entries' sizes, read from Redis itself. */
async function storedBytes(): Promise<number> {
  const entries = await receiver.redis.hvals(receiver.keys.quarantineBodies);
  return entries.reduce((sum, e) => sum + Buffer.byteLength(e), 0);
}

describe('quarantine', () => {
  it('keeps a body without its base64 thumbnails, at any depth, still valid JSON', async () => {
    const thumbnail = maxImage().messageData.fileMessageData.jpegThumbnail;
    const odd = {
      ...maxImage(),
      typeWebhook: 'brandNewWebhook',
      quoted: { deeper: { jpegThumbnail: `${thumbnail}/+==` } },
    };
    expect((await receiver.post(odd, { token: 'shared-webhook-token-93ab4d' })).status).toBe(200);
    const [entry] = await receiver.quarantine.list();
    expect(entry?.body).not.toContain(thumbnail.slice(0, 16));
    const kept = JSON.parse(entry!.body) as ReturnType<typeof maxImage> & {
      quoted: { deeper: { jpegThumbnail: string } };
    };
    expect(kept.messageData.fileMessageData.jpegThumbnail).toBe('');
    expect(kept.quoted.deeper.jpegThumbnail).toBe('');
    expect(kept.messageData.fileMessageData.fileName).toBe(
      maxImage().messageData.fileMessageData.fileName,
    );
    expect(await receiver.quarantine.bytes()).toBe(await storedBytes());
  });

  it('caps the bytes kept: the oldest go, each counted and logged without its body', async () => {
    const before = await dropped('bytes');
    for (let n = 0; n < 4; n += 1) {
      expect((await receiver.post(oddBody(n, 1500))).status).toBe(200);
    }
    // Two bodies of ~1.6 KB stored fit in 4000 bytes, a third does not.
    const kept = (await receiver.quarantine.list()).map(
      (e) => (JSON.parse(e.body) as { n: number }).n,
    );
    expect(kept).toEqual([3, 2]);
    expect(await storedBytes()).toBeLessThanOrEqual(MAX_BYTES);
    expect(await receiver.quarantine.bytes()).toBe(await storedBytes());
    expect((await dropped('bytes')) - before).toBe(2);

    const lines = receiver
      .logLines()
      .filter((l) => l.component === 'quarantine' && l.reason === 'bytes');
    expect(lines.length).toBeGreaterThanOrEqual(2);
    expect(lines[0]).toMatchObject({
      level: 50,
      idInstance: '1101000001',
      typeWebhook: 'brandNewWebhook',
    });
    expect(JSON.stringify(lines)).not.toContain('ppppp');
  });

  it('drops a body larger than the byte cap on its own, and counts it', async () => {
    const before = await dropped('bytes');
    expect((await receiver.post(oddBody(1, MAX_BYTES + 100))).status).toBe(200);
    expect(await receiver.quarantine.size()).toBe(0);
    expect(await receiver.quarantine.bytes()).toBe(0);
    expect((await dropped('bytes')) - before).toBe(1);
  });

  it('counts the bodies the count cap drops', async () => {
    const before = await dropped('count');
    for (let n = 0; n < 6; n += 1) expect((await receiver.post(oddBody(n))).status).toBe(200);
    expect(await receiver.quarantine.size()).toBe(4);
    expect((await dropped('count')) - before).toBe(2);
  });

  it('gives the bytes back when an entry is removed (replay)', async () => {
    for (let n = 0; n < 2; n += 1) expect((await receiver.post(oddBody(n))).status).toBe(200);
    const [newest] = await receiver.quarantine.list();
    await receiver.quarantine.remove(newest!.id);
    expect(await receiver.quarantine.bytes()).toBe(await storedBytes());
    await receiver.quarantine.remove((await receiver.quarantine.list())[0]!.id);
    expect(await receiver.quarantine.bytes()).toBe(0);
  });
});
