import type { Server } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { createLogger, loadConfig } from '@archiver/core';
import { createApp, createReceiverServices, listen, listenUrl } from '@archiver/receiver';
import { INSTANCES, type ChaosEnv } from './env.js';
import type { CorpusFile } from './corpus.js';

/** The real receiver app (as main.ts wires it), in this process, for one queue prefix. */
export async function startReceiver(env: ChaosEnv, prefix: string) {
  const config = loadConfig(
    {
      REDIS_URL: env.redis.url,
      QUEUE_PREFIX: prefix,
      GREEN_API_INSTANCES: JSON.stringify(INSTANCES.map((i) => ({ ...i, apiUrl: env.fake.url }))),
      LOG_LEVEL: 'silent',
    },
    'receiver',
  );
  const logger = createLogger({ level: 'silent', name: 'chaos-receiver' });
  const services = createReceiverServices(config, logger);
  const app = createApp({ config, logger, ...services });
  // main.ts listens at once and answers 503 until Redis is connected; the scenarios start
  // counting 503s only once the receiver could have stored something.
  const readyBy = Date.now() + 15_000;
  while ((await services.redis.ping().catch(() => '')) !== 'PONG') {
    if (Date.now() > readyBy) throw new Error('receiver: Redis not reachable');
    await sleep(20);
  }
  const server: Server = await listen(app, 0, '127.0.0.1');
  return {
    url: `${listenUrl(server)}/webhooks/green-api`,
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await services.close();
    },
  };
}

export type SendReport = {
  /** Messages whose webhook was finally answered 200. */
  accepted: Set<string>;
  /** Every status seen (503s while Redis is down, etc.), by status. */
  statuses: Record<string, number>;
  sent: number;
};

/**
 * Delivers each file's webhook to the receiver over HTTP, paced over `spreadMs`, `lanes` at a
 * time. A non-200 answer or a network error is retried every `retryMs`, as Green-API redelivers
 * (it waits 60 s; a test need not), until `deadline`.
 */
export async function sendWebhooks(
  url: string,
  files: CorpusFile[],
  o: { spreadMs: number; lanes: number; retryMs: number; deadline: number; stop: () => boolean },
  report: SendReport = newSendReport(),
): Promise<SendReport> {
  const started = Date.now();
  const interval = files.length > 0 ? o.spreadMs / files.length : 0;
  let next = 0;
  const lane = async () => {
    for (;;) {
      const index = next;
      next += 1;
      const file = files[index];
      if (!file) return;
      const due = started + index * interval;
      if (due > Date.now()) await sleep(due - Date.now());
      const body = JSON.stringify(file.hook);
      for (;;) {
        const status = await post(url, body, file.instance.webhookToken);
        report.statuses[status] = (report.statuses[status] ?? 0) + 1;
        if (status === '200') break;
        if (Date.now() > o.deadline || o.stop()) return;
        await sleep(o.retryMs);
      }
      report.accepted.add(file.data.idMessage);
      report.sent += 1;
    }
  };
  await Promise.all(Array.from({ length: o.lanes }, lane));
  return report;
}

export function newSendReport(): SendReport {
  return { accepted: new Set(), statuses: {}, sent: 0 };
}

async function post(url: string, body: string, token: string): Promise<string> {
  try {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body,
      signal: AbortSignal.timeout(10_000),
    });
    await res.arrayBuffer();
    return String(res.status);
  } catch {
    return 'network-error';
  }
}
