import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startFakeGreenApi, type FakeGreenApi } from '../src/index.js';

const WA = { idInstance: '1101000001', apiTokenInstance: 'wa-token', kind: 'whatsapp' } as const;
const MAX = { idInstance: '3100000001', apiTokenInstance: 'max-token', kind: 'max' } as const;

let fake: FakeGreenApi;
let clock: number;

beforeEach(async () => {
  clock = 1_700_000_000_000;
  fake = await startFakeGreenApi({
    now: () => clock,
    settingsTiming: { rebootMs: 5_000, applyDelayMs: 60_000 },
  });
  fake.addInstance(WA);
  fake.addInstance(MAX);
});
afterEach(() => fake.close());

async function api(
  instance: { idInstance: string; apiTokenInstance: string },
  method: string,
  body?: unknown,
) {
  const res = await fetch(
    `${fake.url}/waInstance${instance.idInstance}/${method}/${instance.apiTokenInstance}`,
    body === undefined
      ? {}
      : {
          method: 'POST',
          body: JSON.stringify(body),
          headers: { 'content-type': 'application/json' },
        },
  );
  const text = await res.text();
  return { status: res.status, text, json: () => JSON.parse(text) as Record<string, unknown> };
}

describe('fake Green-API settings', () => {
  it('starts with every webhook off and no URL, as after creation', async () => {
    const res = await api(WA, 'getSettings');
    expect(res.status).toBe(200);
    expect(res.json()).toMatchObject({
      webhookUrl: '',
      webhookUrlToken: '',
      incomingWebhook: 'no',
      outgoingCallWebhook: 'no',
      wid: '11001234567@c.us',
    });
    const max = (await api(MAX, 'getSettings')).json();
    expect(max).toHaveProperty('editedMessageWebhook', 'no');
    expect(max).not.toHaveProperty('incomingCallWebhook');
  });

  it('reboots on SetSettings and shows the new values only after the apply delay', async () => {
    const set = await api(WA, 'setSettings', { incomingWebhook: 'yes', webhookUrl: 'https://a/b' });
    expect(set.json()).toEqual({ saveSettings: true });
    clock += 1_000;
    expect((await api(WA, 'getStateInstance')).json()).toEqual({ stateInstance: 'starting' });
    expect((await api(WA, 'getSettings')).text).toBe('instance in starting process try later');
    clock += 5_000;
    expect((await api(WA, 'getStateInstance')).json()).toEqual({ stateInstance: 'authorized' });
    // Rebooted, but not applied yet.
    expect((await api(WA, 'getSettings')).json()).toMatchObject({ incomingWebhook: 'no' });
    clock += 60_000;
    expect((await api(WA, 'getSettings')).json()).toMatchObject({
      incomingWebhook: 'yes',
      webhookUrl: 'https://a/b',
      outgoingWebhook: 'no',
    });
  });

  it('refuses unknown fields, wrong values and an empty body', async () => {
    expect((await api(MAX, 'setSettings', { incomingCallWebhook: 'yes' })).status).toBe(400);
    clock += 1_000;
    expect((await api(WA, 'setSettings', { incomingWebhook: true })).status).toBe(400);
    clock += 1_000;
    expect((await api(WA, 'setSettings', {})).status).toBe(400);
    expect(fake.settingsOf(WA.idInstance)['incomingWebhook']).toBe('no');
  });

  it('keeps an unauthorised instance unauthorised after the reboot', async () => {
    fake.setInstanceState(WA.idInstance, 'notAuthorized');
    await api(WA, 'setSettings', { stateWebhook: 'yes' });
    clock += 1_000;
    expect((await api(WA, 'getStateInstance')).json()).toEqual({ stateInstance: 'starting' });
    clock += 10_000;
    expect((await api(WA, 'getStateInstance')).json()).toEqual({ stateInstance: 'notAuthorized' });
    expect((await api(WA, 'getSettings')).json()).toMatchObject({ wid: '' });
  });

  it('limits each settings method to 1 request/s', async () => {
    expect((await api(WA, 'getSettings')).status).toBe(200);
    expect((await api(WA, 'getSettings')).status).toBe(429);
    expect((await api(WA, 'getStateInstance')).status).toBe(200);
  });
});
