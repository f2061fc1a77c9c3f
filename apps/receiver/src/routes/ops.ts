import type { Request, Response } from 'express';
import type { Logger } from 'pino';
import type { Metrics, RedisClient } from '@archiver/core';
import { withTimeout } from './greenapi-webhook.js';

/** Liveness: the process answers. Deliberately independent of Redis, so a Redis outage never restarts receivers. */
export function healthz(_req: Request, res: Response): void {
  res.status(200).json({ ok: true });
}

/**
 * Readiness: RedisClient answers a PING within `timeoutMs`. While it does not, the load balancer
 * sends webhooks to another receiver (they would get a 503 here anyway).
 */
export function createReadyz(deps: { redis: Pick<RedisClient, 'ping'>; timeoutMs: number }) {
  return async function readyz(_req: Request, res: Response): Promise<void> {
    try {
      await withTimeout(deps.redis.ping(), deps.timeoutMs);
      res.status(200).json({ ok: true, redis: 'up' });
    } catch {
      res.status(503).json({ ok: false, redis: 'down' });
    }
  };
}

/** Prometheus text. The queue gauges read Redis and swallow its errors, so this answers during an outage. */
export function createMetricsRoute(deps: { metrics: Metrics; logger: Logger }) {
  return async function metrics(_req: Request, res: Response): Promise<void> {
    try {
      const text = await deps.metrics.registry.metrics();
      res.status(200).type(deps.metrics.registry.contentType).send(text);
    } catch (err) {
      deps.logger.error({ err, component: 'metrics' }, 'metrics collection failed');
      res.status(500).type('text/plain').send('metrics collection failed\n');
    }
  };
}
