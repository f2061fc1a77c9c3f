import { describe, expect, it } from 'vitest';
import { banner } from './banner.js';
import { DEMO_CHAT, demoConversation } from './demo-conversation.js';
import { DEMO } from './settings.js';
import type { DevState } from './state.js';

const state: DevState = {
  version: 1,
  pid: 1,
  startedAt: '2026-12-02T21:00:00.000Z',
  receiverUrl: 'http://127.0.0.1:3000',
  webhookUrl: 'http://127.0.0.1:3000/webhooks/green-api',
  webhookToken: DEMO.webhookToken,
  workerUrl: 'http://127.0.0.1:9464',
  admin: { url: 'http://127.0.0.1:3000/admin/queues', ...DEMO.admin },
  review: { url: 'http://127.0.0.1:3000/review/', ...DEMO.review },
  simulator: { url: 'http://127.0.0.1:3100', controlUrl: 'http://127.0.0.1:3101/_sim' },
  instances: DEMO.instances.map(({ idInstance, kind }) => ({ idInstance, kind })),
  s3: {
    endpoint: 'http://127.0.0.1:4568',
    region: 'us-east-1',
    bucket: 'archive',
    accessKeyId: 'S3RVER',
    secretAccessKey: 'S3RVER',
    prefix: '',
    dataDir: '/tmp/s3',
  },
  redis: { url: 'redis://127.0.0.1:6379', describe: 'redis', queuePrefix: 'archiver' },
};

describe('dev banner', () => {
  it('prints the review page with its credentials', () => {
    expect(banner(state)).toContain(
      '  Review     http://127.0.0.1:3000/review/  (user officer, password demo-review-password)',
    );
  });
});

describe('demo conversation', () => {
  it('has texts, an edit and a deletion of earlier messages, and a reaction, in one chat', () => {
    const messages = demoConversation(
      { idInstance: '1101000001', kind: 'whatsapp' },
      1_800_000_000,
    );
    const data = (m: (typeof messages)[number]) =>
      m.body.messageData as { typeMessage: string } & Record<string, { stanzaId?: string }>;
    const ids = messages.map((m) => m.idMessage);
    const byType = (t: string) => messages.filter((m) => data(m).typeMessage === t);
    expect(byType('textMessage').length).toBeGreaterThanOrEqual(3);
    for (const [type, field] of [
      ['editedMessage', 'editedMessageData'],
      ['deletedMessage', 'deletedMessageData'],
      ['reactionMessage', 'quotedMessage'],
    ] as const) {
      const [change] = byType(type);
      const target = data(change!)[field]?.stanzaId;
      // It names a message sent before it.
      expect(ids.indexOf(target!)).toBeGreaterThanOrEqual(0);
      expect(ids.indexOf(target!)).toBeLessThan(ids.indexOf(change!.idMessage));
    }
    expect(new Set(messages.map((m) => (m.body.senderData as { chatId: string }).chatId))).toEqual(
      new Set([DEMO_CHAT]),
    );
    // Fresh ids on every run: a second demo is not a duplicate of the first.
    const again = demoConversation({ idInstance: '1101000001', kind: 'whatsapp' }, 1_800_000_000);
    expect(again.map((m) => m.idMessage)).not.toEqual(ids);
  });
});
