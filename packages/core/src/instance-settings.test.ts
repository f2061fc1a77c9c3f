import { describe, expect, it } from 'vitest';
import { planSettings, settingsTarget, tokenMatches } from './instance-settings.js';

const URL = 'https://archiver.example.com/webhooks/green-api';
const allOn = Object.fromEntries(
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
);

describe('planSettings', () => {
  const target = { webhookUrl: URL, webhookToken: 'tok' };

  it('is empty for an instance that is connected', () => {
    const plan = planSettings(
      { ...allOn, webhookUrl: URL, webhookUrlToken: 'tok' },
      target,
      'whatsapp',
    );
    expect(plan).toEqual({ changes: [], update: {} });
  });

  it('reads a token written as "Bearer <token>" as this archiver\'s', () => {
    expect(tokenMatches('Bearer tok', 'tok')).toBe(true);
    expect(tokenMatches('bearer  tok', 'tok')).toBe(true);
    expect(tokenMatches('Bearer other', 'tok')).toBe(false);
    expect(tokenMatches('', 'tok')).toBe(false);
  });

  it('sends only what differs and never prints a token or a URL query', () => {
    const plan = planSettings(
      {
        ...allOn,
        deletedMessageWebhook: 'no',
        webhookUrl: 'https://old.example/h?key=s3cr3t',
        webhookUrlToken: 'old-secret',
      },
      target,
      'whatsapp',
    );
    expect(plan.update).toEqual({
      webhookUrl: URL,
      webhookUrlToken: 'tok',
      deletedMessageWebhook: 'yes',
    });
    const printed = JSON.stringify(plan.changes);
    expect(printed).not.toContain('s3cr3t');
    expect(printed).not.toContain('old-secret');
    expect(printed).not.toContain('"tok"');
  });

  it('leaves settings a MAX instance does not report alone, but sets those it reports', () => {
    const plan = planSettings(
      { webhookUrl: URL, webhookUrlToken: 'tok', pollMessageWebhook: 'no' },
      target,
      'max',
    );
    expect(Object.keys(plan.update)).toContain('pollMessageWebhook');
    expect(Object.keys(plan.update)).not.toContain('incomingCallWebhook');
    expect(Object.keys(plan.update)).toContain('editedMessageWebhook');
  });

  it('wants no URL for an instance the poller serves, and does not check its token', () => {
    const plan = planSettings(
      { ...allOn, webhookUrl: URL, webhookUrlToken: '' },
      settingsTarget({ delivery: 'poll', webhookToken: 'tok' }, URL),
      'whatsapp',
    );
    expect(plan.update).toEqual({ webhookUrl: '' });
  });
});
