import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { OTHER_TYPES, TOKENS, textMessage, whatsappDocument } from './support/fixtures.js';
import { metricValue, startReceiver, type TestReceiver } from './support/harness.js';
import './support/provided.js';

let receiver: TestReceiver;

beforeAll(async () => {
  // Room for a body nested 10,000 levels deep (20 KB of brackets).
  receiver = await startReceiver({
    redisUrl: inject('redisUrl'),
    env: { WEBHOOK_BODY_LIMIT_BYTES: String(256 * 1024) },
  });
});
afterEach(async () => {
  await receiver.clean();
});
afterAll(async () => {
  await receiver?.close();
});

/** `[[[…]]]`, `depth` levels: valid JSON that JSON.parse reads and JSON.stringify cannot. */
function nested(depth: number): string {
  return `${'['.repeat(depth)}${']'.repeat(depth)}`;
}

/** A body's JSON text with `deep` spliced in as the value of `extra` inside `messageData`. */
function withDeepField(body: object, depth: number): string {
  const text = JSON.stringify(body);
  const at = text.indexOf('"messageData":{') + '"messageData":{'.length;
  return `${text.slice(0, at)}"extra":${nested(depth)},${text.slice(at)}`;
}

async function nothingEnqueued(): Promise<void> {
  expect(await receiver.jobs()).toHaveLength(0);
  expect(await receiver.recordJobs()).toHaveLength(0);
}

describe('a body that cannot be packed into a job', () => {
  it.each([
    ['a file message', whatsappDocument({ idMessage: 'DEEP1' })],
    ['a text message', textMessage()],
  ])('%s nested 10,000 levels deep is quarantined with 200, every time', async (_name, body) => {
    const text = withDeepField(body, 10_000);
    const count = async (outcome: string) =>
      metricValue(await receiver.metricsText(), 'archiver_webhooks_total', {
        type: 'incomingMessageReceived',
        outcome,
      });
    const before = {
      quarantined: await count('quarantined'),
      unavailable: await count('unavailable'),
    };
    for (let delivery = 0; delivery < 2; delivery += 1) {
      const res = await receiver.post(text);
      expect(res.status).toBe(200);
    }
    await nothingEnqueued();
    const entries = await receiver.quarantine.list();
    expect(entries).toHaveLength(2);
    expect(entries[0]).toMatchObject({
      reason: expect.stringMatching(/^unpackable: RangeError/) as unknown,
      idInstance: '1101000001',
      typeWebhook: 'incomingMessageReceived',
    });
    // Kept as received, for a replay once the archiver can take it.
    expect(entries[0]?.body).toBe(text);
    expect((await count('quarantined')) - before.quarantined).toBe(2);
    expect((await count('unavailable')) - before.unavailable).toBe(0);
  });
});

describe('a body of an instance that is not configured', () => {
  it.each([
    ['a leading zero', '01101000001'],
    ['a short made-up id', '999'],
    ['a plausible id', '1234567'],
  ])('with the global token, %s is quarantined, not enqueued', async (_name, idInstance) => {
    const file = whatsappDocument({ idMessage: `UNK-${idInstance}` });
    const text = JSON.stringify(file).replace(
      '"idInstance":1101000001',
      `"idInstance":${JSON.stringify(idInstance)}`,
    );
    const res = await receiver.post(text, { token: TOKENS.global });
    expect(res.status).toBe(200);
    await nothingEnqueued();
    const [entry] = await receiver.quarantine.list();
    expect(entry?.reason).toBe(`idInstance ${idInstance} is not a configured instance`);
    expect(entry?.idInstance).toBe(idInstance);
  });

  it('quarantines its events too (a status, a call)', async () => {
    const events = [OTHER_TYPES.outgoingMessageStatus, OTHER_TYPES.incomingCall].map((body) => ({
      ...body,
      instanceData: { ...body.instanceData, idInstance: 999 },
    }));
    for (const body of events) {
      expect((await receiver.post(body, { token: TOKENS.global })).status).toBe(200);
    }
    await nothingEnqueued();
    expect(await receiver.quarantine.size()).toBe(2);
  });

  it('never names an unconfigured id in a metric label', async () => {
    for (const id of [999, 424242, 1101000009]) {
      const body = whatsappDocument({ idInstance: id, idMessage: `LBL${id}` });
      expect((await receiver.post(body, { token: TOKENS.global })).status).toBe(200);
    }
    expect((await receiver.post(whatsappDocument({ idMessage: 'LBL-OK' }))).status).toBe(200);
    const metrics = await receiver.metricsText();
    const labelled = metrics
      .split('\n')
      .filter((line) => /^archiver_\w+\{[^}]*instance="/.test(line))
      .map((line) => /instance="([^"]*)"/.exec(line)?.[1]);
    const configured = receiver.config.instances.map((i) => i.idInstance);
    expect(labelled.length).toBeGreaterThan(0);
    expect(labelled.filter((id) => id !== 'unknown' && !configured.includes(id!))).toEqual([]);
    expect(
      metricValue(metrics, 'archiver_webhooks_by_instance_total', { instance: 'unknown' }),
    ).toBeGreaterThanOrEqual(3);
    expect(
      metricValue(metrics, 'archiver_webhooks_by_instance_total', { instance: '1101000001' }),
    ).toBeGreaterThanOrEqual(1);
  });
});
