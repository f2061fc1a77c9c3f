export * from './schemas/common.js';
export * from './schemas/webhooks.js';
export * from './schemas/responses.js';
export * from './classify.js';
export * from './errors.js';
export * from './client.js';
export * from './message-content.js';
export * from './schemas/settings.js';
