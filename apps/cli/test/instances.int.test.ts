import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../src/cli.js';
import { startFakeGreenApi, type FakeGreenApi } from '../../../packages/testkit/src/index.js';
import { captureIo, createContext, envOf, type TestContext } from './helpers.js';

const WA_ID = '1101000301';
const MAX_ID = '3100000302';
const OFF_ID = '1101000303';
const API_TOKEN = 'connect-api-token-secret';
const HOOK_TOKEN = 'connect-hook-token-secret';
const URL = 'https://archiver.example.com/webhooks/green-api';

describe('archiver instances connect', () => {
  let fake: FakeGreenApi;
  let ctx: TestContext;

  beforeAll(async () => {
    // Long enough that a connect which does not wait reads the old settings.
    fake = await startFakeGreenApi({ settingsTiming: { rebootMs: 1500, applyDelayMs: 2500 } });
  });
  afterAll(() => fake.close());

  beforeEach(() => {
    fake.addInstance({
      idInstance: WA_ID,
      apiTokenInstance: API_TOKEN,
      kind: 'whatsapp',
      // Chosen by the customer: connect must leave them alone.
      settings: { markIncomingMessagesReaded: 'yes', delaySendMessagesMilliseconds: 3000 },
    });
    fake.addInstance({ idInstance: MAX_ID, apiTokenInstance: API_TOKEN, kind: 'max' });
    fake.addInstance({ idInstance: OFF_ID, apiTokenInstance: API_TOKEN, kind: 'whatsapp' });
    fake.clearCalls();
    const instance = (idInstance: string, kind: string) => ({
      idInstance,
      apiTokenInstance: API_TOKEN,
      apiUrl: fake.url,
      kind,
      webhookToken: HOOK_TOKEN,
    });
    ctx = createContext('connect', {
      GREEN_API_INSTANCES: JSON.stringify([
        instance(WA_ID, 'whatsapp'),
        instance(MAX_ID, 'max'),
        instance(OFF_ID, 'whatsapp'),
      ]),
    });
  });
  afterEach(() => ctx.close());

  const run = async (...args: string[]) => {
    const io = captureIo();
    const code = await runCli(['instances', 'connect', ...args], envOf(ctx), io, ctx.factory);
    expect(io.text.out + io.text.err).not.toContain(HOOK_TOKEN);
    expect(io.text.out + io.text.err).not.toContain(API_TOKEN);
    return { code, ...io.text };
  };

  it('shows the diff with the token masked and changes nothing on --dry-run', async () => {
    const r = await run('--instance', WA_ID, '--url', URL, '--dry-run');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/webhookUrl\s+\(empty\)\s+→\s+https:\/\/archiver\.example\.com/);
    expect(r.out).toMatch(/webhookUrlToken\s+\(empty\)\s+→\s+\*+ \(the instance's webhookToken\)/);
    for (const field of ['editedMessageWebhook', 'deletedMessageWebhook', 'outgoingCallWebhook']) {
      expect(r.out).toMatch(new RegExp(`${field}\\s+no\\s+→\\s+yes`));
    }
    expect(r.out).not.toContain('markIncomingMessagesReaded');
    expect(fake.count('setSettings')).toBe(0);
  });

  it('waits out the reboot and the delayed apply, confirms, and a second run changes nothing', async () => {
    const first = await run('--instance', WA_ID, '--url', URL);
    expect(first.err).toContain('reboots');
    expect(first.code).toBe(0);
    expect(first.out).toContain('confirmed by getSettings');
    // It asked until the instance came back: the reboot was seen, not skipped.
    expect(
      fake.count('getSettings', { status: 400 }) + fake.count('getStateInstance'),
    ).toBeGreaterThan(2);
    const settings = fake.settingsOf(WA_ID);
    expect(settings).toMatchObject({
      webhookUrl: URL,
      webhookUrlToken: HOOK_TOKEN,
      incomingWebhook: 'yes',
      outgoingMessageWebhook: 'yes',
      outgoingAPIMessageWebhook: 'yes',
      outgoingWebhook: 'yes',
      editedMessageWebhook: 'yes',
      deletedMessageWebhook: 'yes',
      pollMessageWebhook: 'yes',
      incomingCallWebhook: 'yes',
      outgoingCallWebhook: 'yes',
      stateWebhook: 'yes',
      // Untouched.
      markIncomingMessagesReaded: 'yes',
      delaySendMessagesMilliseconds: 3000,
      keepOnlineStatus: 'no',
    });
    expect(fake.count('setSettings')).toBe(1);

    const second = await run('--instance', WA_ID, '--url', URL);
    expect(second.code).toBe(0);
    expect(second.out).toContain('connected already');
    expect(fake.count('setSettings')).toBe(1);
  });

  it('never sends MAX a setting MAX does not have', async () => {
    const r = await run('--instance', MAX_ID, '--url', URL);
    expect(r.code).toBe(0);
    expect(fake.count('setSettings', { status: 400 })).toBe(0);
    expect(fake.settingsOf(MAX_ID)).toMatchObject({
      deletedMessageWebhook: 'yes',
      webhookUrl: URL,
    });
  });

  it('connects --all and exits 1 naming the instance that is not authorised', async () => {
    fake.setInstanceState(OFF_ID, 'notAuthorized');
    const r = await run('--all', '--url', URL);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(new RegExp(`instance ${OFF_ID}: NOT connected \\(not_authorized\\).*QR`));
    expect(r.out).toContain(`instance ${WA_ID}: changed`);
    expect(r.out).toContain(`instance ${MAX_ID}: changed`);
    expect(r.out).toContain('3 instance(s): 2 connected now, 0 connected already, 1 failed');
  });

  it('gives up after --wait when the settings do not apply, and says so', async () => {
    fake.setSettingsTiming({ applyDelayMs: 60_000 });
    try {
      const r = await run('--instance', WA_ID, '--url', URL, '--wait', '3');
      expect(r.code).toBe(1);
      expect(r.out).toMatch(
        /NOT connected \(timeout\): not confirmed within 3 s \(still to apply: webhookUrl/,
      );
    } finally {
      fake.setSettingsTiming({ applyDelayMs: 2500 });
    }
  });

  it('refuses a call without --url or WEBHOOK_URL, or with both --instance and --all', async () => {
    expect((await run('--instance', WA_ID)).code).toBe(2);
    expect((await run('--all', '--instance', WA_ID, '--url', URL)).code).toBe(2);
    expect((await run('--instance', '999', '--url', URL)).code).toBe(2);
  });
});
