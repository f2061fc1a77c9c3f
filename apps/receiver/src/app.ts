import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import express, { type NextFunction, type Request, type Response } from 'express';
import type { Logger } from 'pino';
import { instanceMap } from '@archiver/core';
import type {
  ArchiveQueue,
  Config,
  Ingest,
  InstanceRegistry,
  LastSeen,
  Metrics,
  RedisClient,
} from '@archiver/core';
import { createWebhookAuth, type WebhookAuth } from './auth.js';
import { ADMIN_PATH, createAdminRouter } from './routes/admin.js';
import { REVIEW_PATH } from './review/pages.js';
import { createReviewRouter, type ReviewDeps } from './review/router.js';
import { createWebhookHandler } from './routes/greenapi-webhook.js';
import { RESPONSES, send } from './responses.js';
import { createMetricsRoute, createReadyz, healthz } from './routes/ops.js';

export const WEBHOOK_PATH = '/webhooks/green-api';

export type AppDeps = {
  config: Pick<
    Config,
    | 'instances'
    | 'webhookToken'
    | 'allowUnauthenticatedWebhooks'
    | 'webhookBodyLimitBytes'
    | 'admin'
    | 'review'
  >;
  logger: Logger;
  /** Only PING is used (readiness); webhooks reach Redis through `ingest`. */
  redis: Pick<RedisClient, 'ping'>;
  /** For the dashboard; untouched when `config.admin` is unset. */
  queue: ArchiveQueue;
  ingest: Ingest;
  metrics: Metrics;
  lastSeen?: LastSeen;
  /** Reloadable instances: their tokens are taken again on every change. */
  registry?: InstanceRegistry;
  /**
   * Longest wait for Redis to store a webhook before answering 503. The producer connection
   * already fails fast (commandTimeout 1.5 s), but a batch is up to three round trips in a
   * row. Default 1000 ms: a healthy batch takes milliseconds, and the 503 must come within 2 s.
   */
  ingestTimeoutMs?: number;
  /** Default 1000 ms. */
  readyTimeoutMs?: number;
  /** The review page's S3, custody and audit side (wiring.ts); used when `config.review` is set. */
  review?: Omit<ReviewDeps, 'credentials' | 'logger'>;
};

/**
 * The receiver's HTTP request listener, without listening: tests and benchmarks use it
 * in-process. `POST /webhooks/green-api` is answered before Express's router: the webhook
 * handler works on the raw request and response already (own body read, pre-built answers),
 * and routing through Express cost more CPU per webhook than everything the handler does
 * (BENCHMARKS.md). Every other path (ops, dashboard, 404s) is the Express app.
 */
export function createApp(deps: AppDeps): RequestListener {
  const { config } = deps;
  const configured = instanceMap(config.instances);
  const handleWebhook = createWebhookHandler({
    ingest: deps.ingest,
    auth: config.allowUnauthenticatedWebhooks ? undefined : reloadableAuth(config, deps.registry),
    bodyLimitBytes: config.webhookBodyLimitBytes,
    metrics: deps.metrics,
    logger: deps.logger,
    ingestTimeoutMs: deps.ingestTimeoutMs ?? 1000,
    lastSeen: deps.lastSeen,
    // Configured ids only (the reloaded set when there is one), so a sender cannot make a
    // new time series per request.
    instanceLabel: (id) => {
      const known = deps.registry?.current ?? configured;
      return id !== undefined && known.has(id) ? id : 'unknown';
    },
  });
  const app = express();
  // Nothing here benefits from ETags, and computing one costs a hash of every body.
  app.set('etag', false);
  app.disable('x-powered-by');
  app.get('/healthz', healthz);
  app.get('/readyz', createReadyz({ redis: deps.redis, timeoutMs: deps.readyTimeoutMs ?? 1000 }));
  app.get('/metrics', createMetricsRoute(deps));
  // Unset credentials: no dashboard at all (404), rather than an open one.
  if (config.admin) app.use(ADMIN_PATH, ...createAdminRouter(deps.queue, config.admin));
  // The same for the review page: no credentials, no page.
  if (config.review) {
    const review = createReviewRouter({
      ...deps.review,
      credentials: config.review,
      logger: deps.logger.child({ component: 'review' }),
    });
    app.use(REVIEW_PATH, review);
  }

  app.use(errorHandler(deps.logger));

  return (req: IncomingMessage, res: ServerResponse) => {
    if (req.method === 'POST' && isWebhookPath(req.url)) {
      handleWebhook(req, res).catch((err: unknown) => {
        deps.logger.error({ err, component: 'http' }, 'unhandled webhook error');
        send(res, RESPONSES.internal);
      });
      return;
    }
    app(req, res);
  };
}

/**
 * The token checks, rebuilt when the registry reloads: a new instance is served at once, a
 * removed one's token stops working, and a webhook in flight keeps the checks it started with.
 */
function reloadableAuth(
  config: Pick<Config, 'instances' | 'webhookToken'>,
  registry: InstanceRegistry | undefined,
): WebhookAuth {
  let auth = createWebhookAuth(config);
  registry?.onChange((_change, next) => {
    auth = createWebhookAuth({ instances: next.instances, webhookToken: config.webhookToken });
  });
  return {
    admit: (token) => auth.admit(token),
    forInstance: (token, idInstance) => auth.forInstance(token, idInstance),
  };
}

/**
 * The webhook path, optionally with one trailing slash and a query string, in any letter case:
 * what Express's router matched (an integrator who types `/Webhooks/Green-API` is served).
 */
function isWebhookPath(url: string | undefined): boolean {
  if (url === undefined) return false;
  const path = url.slice(0, WEBHOOK_PATH.length);
  if (path !== WEBHOOK_PATH && path.toLowerCase() !== WEBHOOK_PATH) return false;
  const rest = url.slice(WEBHOOK_PATH.length);
  return rest === '' || rest === '/' || rest.startsWith('?') || rest.startsWith('/?');
}

/** Last resort: Express's own handler would print a stack trace outside production. */
function errorHandler(logger: Logger) {
  return (err: unknown, _req: Request, res: Response, next: NextFunction) => {
    if (res.headersSent) return next(err);
    logger.error({ err, component: 'http' }, 'unhandled request error');
    res.status(500).json({ ok: false, error: 'internal' });
  };
}
