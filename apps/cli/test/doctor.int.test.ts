import { createLastSeen, redisKeys } from '@archiver/core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../src/cli.js';
import { startFakeGreenApi, type FakeGreenApi } from '../../../packages/testkit/src/index.js';
import { captureIo, createContext, envOf, type TestContext } from './helpers.js';

const API_TOKEN = 'doctor-api-token-secret';
const HOOK_TOKEN = 'doctor-hook-token-secret';
const URL = 'https://archiver.example.com/webhooks/green-api';
const IDS = {
  good: '1101000401',
  missingFlag: '1101000402',
  wrongUrl: '1101000403',
  wrongToken: '1101000404',
  notAuthorized: '1101000405',
  silent: '1101000406',
} as const;

const CONNECTED = {
  webhookUrl: URL,
  webhookUrlToken: HOOK_TOKEN,
  ...Object.fromEntries(
    [
      'incomingWebhook',
      'outgoingMessageWebhook',
      'outgoingAPIMessageWebhook',
      'outgoingWebhook',
      'editedMessageWebhook',
      'deletedMessageWebhook',
      'pollMessageWebhook',
      'incomingCallWebhook',
      'outgoingCallWebhook',
      'stateWebhook',
    ].map((name) => [name, 'yes']),
  ),
};

describe('archiver doctor', () => {
  let fake: FakeGreenApi;
  let ctx: TestContext;

  beforeAll(async () => {
    fake = await startFakeGreenApi();
  });
  afterAll(() => fake.close());

  beforeEach(async () => {
    const settings: Record<string, Record<string, string>> = {
      [IDS.good]: CONNECTED,
      [IDS.missingFlag]: { ...CONNECTED, deletedMessageWebhook: 'no' },
      [IDS.wrongUrl]: { ...CONNECTED, webhookUrl: 'https://old-archiver.example.com/hook' },
      [IDS.wrongToken]: { ...CONNECTED, webhookUrlToken: 'someone-elses-token' },
      [IDS.notAuthorized]: CONNECTED,
      [IDS.silent]: CONNECTED,
    };
    for (const [idInstance, values] of Object.entries(settings)) {
      fake.addInstance({
        idInstance,
        apiTokenInstance: API_TOKEN,
        kind: 'whatsapp',
        settings: values,
      });
    }
    fake.setInstanceState(IDS.notAuthorized, 'notAuthorized');
    // A message ten minutes ago: its webhook should have come.
    const tenMinutesAgo = Math.floor(Date.now() / 1000) - 600;
    for (const id of [IDS.good, IDS.silent]) {
      fake.addJournalMessage(id, {
        type: 'incoming',
        idMessage: `M-${id}`,
        timestamp: tenMinutesAgo,
        typeMessage: 'textMessage',
        chatId: '79001234567@c.us',
        textMessage: 'hello',
        senderId: '79001234567@c.us',
        senderName: 'Ann',
      });
    }
    ctx = createContext('doctor', {
      WEBHOOK_URL: URL,
      GREEN_API_INSTANCES: JSON.stringify(
        Object.values(IDS).map((idInstance) => ({
          idInstance,
          apiTokenInstance: API_TOKEN,
          apiUrl: fake.url,
          kind: 'whatsapp',
          webhookToken: HOOK_TOKEN,
        })),
      ),
    });
    // The receiver heard from the good instance after its message.
    createLastSeen(ctx.deps.redis, redisKeys(ctx.queuePrefix)).touch(IDS.good);
    await expect.poll(() => ctx.deps.redis.hlen(redisKeys(ctx.queuePrefix).lastSeen)).toBe(1);
  });
  afterEach(() => ctx.close());

  const run = async (...args: string[]) => {
    const io = captureIo();
    const code = await runCli(['doctor', ...args], envOf(ctx), io, ctx.factory);
    expect(io.text.out + io.text.err).not.toContain(HOOK_TOKEN);
    expect(io.text.out + io.text.err).not.toContain('someone-elses-token');
    return { code, ...io.text };
  };

  /** The table row of one instance: its check columns, in order. */
  const row = (out: string, id: string) =>
    out
      .split('\n')
      .find((line) => line.trim().startsWith(id))
      ?.trim()
      .split(/\s+/)
      .slice(1);

  it('passes a connected instance whose webhooks arrive', async () => {
    const r = await run('--instance', IDS.good);
    expect(r.code).toBe(0);
    expect(row(r.out, IDS.good)).toEqual(['ok', 'ok', 'ok', 'ok', 'ok', 'ok']);
    expect(r.out).toContain('All 1 instance(s) ready.');
  });

  it('names each problem in one table, with the fix, and exits 1', async () => {
    const r = await run();
    expect(r.code).toBe(1);
    expect(row(r.out, IDS.good)).toEqual(['ok', 'ok', 'ok', 'ok', 'ok', 'ok']);
    //                                        authorized url token settings journals webhooks
    expect(row(r.out, IDS.missingFlag)).toEqual(['ok', 'ok', 'ok', 'FAIL', 'ok', 'ok']);
    expect(row(r.out, IDS.wrongUrl)).toEqual(['ok', 'FAIL', 'ok', 'ok', 'ok', 'ok']);
    expect(row(r.out, IDS.wrongToken)).toEqual(['ok', 'ok', 'FAIL', 'ok', 'ok', 'ok']);
    expect(row(r.out, IDS.notAuthorized)?.[0]).toBe('FAIL');
    expect(row(r.out, IDS.silent)).toEqual(['ok', 'ok', 'ok', 'ok', 'ok', 'FAIL']);

    expect(r.out).toContain(`${IDS.missingFlag} settings: off: deletedMessageWebhook`);
    expect(r.out).toContain(`fix: archiver instances connect --instance ${IDS.missingFlag}`);
    expect(r.out).toContain(
      `${IDS.wrongUrl} webhook_url: https://old-archiver.example.com/hook, expected ${URL}`,
    );
    expect(r.out).toContain(`${IDS.notAuthorized} authorized: state notAuthorized`);
    expect(r.out).toContain('scan the QR code');
    expect(r.out).toMatch(
      new RegExp(`${IDS.silent} webhooks: 1 message\\(s\\) in the journals.*none seen`),
    );
    expect(r.out).toContain('5 of 6 instance(s) not ready.');
  });

  it('passes again once connect has fixed the settings', async () => {
    const fixed = await runCli(
      ['instances', 'connect', '--instance', IDS.missingFlag],
      envOf(ctx),
      captureIo(),
      ctx.factory,
    );
    expect(fixed).toBe(0);
    const r = await run('--instance', IDS.missingFlag);
    expect(r.code).toBe(0);
  });
});
