export { createApp, WEBHOOK_PATH, type AppDeps } from './app.js';
export { createWebhookAuth, parseWebhookToken, type WebhookAuth } from './auth.js';
export { closeGracefully, listen, listenUrl } from './server.js';
export { createReceiverServices, type ReceiverServices } from './wiring.js';
