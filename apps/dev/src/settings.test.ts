import { describe, expect, it } from 'vitest';
import { DEMO_SECRETS, loadConfig } from '@archiver/core';
import { DEMO, loadDevSettings } from './settings.js';

describe('dev settings', () => {
  it('uses only credentials start-up refuses outside npm run dev', () => {
    const secrets = [
      DEMO.webhookToken,
      DEMO.admin.password,
      DEMO.review.password,
      ...DEMO.instances.map((i) => i.apiTokenInstance),
    ];
    expect(secrets.filter((s) => !DEMO_SECRETS.has(s))).toEqual([]);
  });

  it('starts with them under the dev option, and is refused without it', () => {
    const env = loadDevSettings({ ARCHIVER_DATA_DIR: '.data-test' }).archiverEnv;
    const { SEAL_SIGNING_KEY: _key, ...withoutKey } = env;
    expect(() => loadConfig(withoutKey, 'receiver', { dev: true })).not.toThrow();
    expect(() => loadConfig(withoutKey, 'receiver')).toThrow(/WEBHOOK_TOKEN: is a demo value/);
  });
});
