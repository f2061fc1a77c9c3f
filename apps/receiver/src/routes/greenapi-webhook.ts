import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { Ingest, IngestOutcome, LastSeen, Metrics } from '@archiver/core';
import { MESSAGE_WEBHOOK_TYPES, OTHER_WEBHOOK_TYPES, peekIdInstance } from '@archiver/greenapi';
import { parseWebhookToken, type WebhookAuth } from '../auth.js';
import { readBody } from '../body.js';
import { RESPONSES, send, type Prebuilt } from '../responses.js';

export type WebhookRouteDeps = {
  ingest: Ingest;
  /** Undefined only with ALLOW_UNAUTHENTICATED_WEBHOOKS=true. */
  auth: WebhookAuth | undefined;
  bodyLimitBytes: number;
  metrics: Metrics;
  logger: Logger;
  /** Longest wait for Redis before answering 503 (Green-API redelivers in 60 s). */
  ingestTimeoutMs: number;
  /** Notes each instance's latest webhook, for `archiver doctor`. */
  lastSeen?: LastSeen;
  /** A body's idInstance as a metric label: configured ids only, else `unknown`. */
  instanceLabel: (idInstance: string | undefined) => string;
};

type Outcome =
  IngestOutcome['outcome'] | 'unauthorized' | 'invalid_json' | 'too_large' | 'unavailable';

// The `type` label only takes documented values: an arbitrary typeWebhook from a body must
// not create a new time series per request.
const KNOWN_TYPES = new Set<string>([...MESSAGE_WEBHOOK_TYPES, ...OTHER_WEBHOOK_TYPES]);

export class IngestTimeoutError extends Error {
  override name = 'IngestTimeoutError';
  constructor(ms: number) {
    super(`webhook not stored within ${ms} ms`);
  }
}

/**
 * POST /webhooks/green-api. The order is deliberate: the token is checked before a byte of the
 * body is read, the body is read once under a byte cap and parsed once, the token is then
 * matched to the body's instance, and only then is anything stored. 200 means "in Redis".
 */
export function createWebhookHandler(deps: WebhookRouteDeps) {
  const log = deps.logger.child({ component: 'webhook' });

  function answer(res: ServerResponse, response: Prebuilt, type: string, outcome: Outcome) {
    deps.metrics.webhooks.inc({ type, outcome });
    send(res, response);
  }

  return async function handleWebhook(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const token = parseWebhookToken(req.headers.authorization);
    const admitted = deps.auth?.admit(token);
    if (deps.auth && !admitted) {
      log.warn(
        { reason: token === undefined ? 'missing_token' : 'unknown_token' },
        'webhook refused: 401',
      );
      return answer(res, RESPONSES.unauthorizedUnread, 'unknown', 'unauthorized');
    }

    const body = await readBody(req, deps.bodyLimitBytes);
    if (!body.ok) {
      if (body.reason === 'aborted') return void log.debug('webhook body aborted by the client');
      log.warn({ limit: deps.bodyLimitBytes }, 'webhook refused: 413');
      return answer(res, RESPONSES.tooLarge, 'unknown', 'too_large');
    }

    let parsed: unknown;
    try {
      parsed = JSON.parse(body.text);
    } catch {
      log.warn({ bytes: body.text.length }, 'webhook refused: 400 not JSON');
      return answer(res, RESPONSES.invalidJson, 'unknown', 'invalid_json');
    }

    const idInstance = peekIdInstance(parsed);
    if (deps.auth && admitted) {
      const verdict = deps.auth.forInstance(admitted, idInstance);
      if (!verdict.ok) {
        log.warn({ idInstance, reason: verdict.reason }, 'webhook refused: 401');
        return answer(res, RESPONSES.unauthorized, 'unknown', 'unauthorized');
      }
    }
    deps.metrics.webhooksByInstance.inc({ instance: deps.instanceLabel(idInstance) });
    const type = typeLabel(parsed);

    let result: IngestOutcome;
    try {
      result = await withTimeout(deps.ingest(parsed, body.text, 'webhook'), deps.ingestTimeoutMs);
    } catch (err) {
      // Never 200 here, even if the write lands later: the redelivery is deduplicated.
      log.error({ err, idInstance, typeWebhook: type }, 'webhook not stored: 503');
      return answer(res, RESPONSES.unavailable, type, 'unavailable');
    }
    // A quarantined body may name any instance: only recognised ones count as heard from.
    if (idInstance !== undefined && result.outcome !== 'quarantined') {
      deps.lastSeen?.touch(idInstance);
    }
    answer(res, responseFor(log, result), type, result.outcome);
  };
}

/** Every stored or deliberately dropped body is a 200 (docs/decisions.md §2: a 4xx would be redelivered). */
function responseFor(log: Logger, result: IngestOutcome): Prebuilt {
  const { outcome, idInstance, typeWebhook } = result;
  switch (outcome) {
    case 'accepted':
    case 'duplicate':
      log.debug({ idInstance, typeWebhook, outcome, jobId: result.jobId }, 'webhook');
      return RESPONSES.ok;
    case 'ignored':
      log.debug({ idInstance, typeWebhook, outcome }, 'webhook');
      return RESPONSES.ok;
    case 'quarantined':
      log.info(
        {
          idInstance,
          typeWebhook,
          outcome,
          quarantineId: result.quarantineId,
          reason: result.reason,
        },
        'webhook quarantined',
      );
      return RESPONSES.ok;
    default:
      return assertNever(outcome);
  }
}

function typeLabel(body: unknown): string {
  const type =
    typeof body === 'object' && body !== null
      ? (body as { typeWebhook?: unknown }).typeWebhook
      : undefined;
  return typeof type === 'string' && KNOWN_TYPES.has(type) ? type : 'unknown';
}

/** Rejects after `ms`; the original promise keeps running (and is still observed by `race`). */
export function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new IngestTimeoutError(ms)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function assertNever(value: never): never {
  throw new Error(`unexpected ingest outcome: ${JSON.stringify(value)}`);
}
