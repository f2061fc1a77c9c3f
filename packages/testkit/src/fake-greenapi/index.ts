export { startFakeGreenApi, type FakeGreenApi, type FakeGreenApiOptions } from './server.js';
export type * from './types.js';
export * from './webhooks.js';
export * from './service-webhooks.js';
export * from './conversation.js';
export type { SettingsTiming, SettingsValues } from './settings.js';
export type { StatusItem } from './statuses.js';
