import type { Logger } from 'pino';
import {
  GreenApiRateLimitError,
  isError,
  isRetryable,
  type GreenApiClient,
  type Notification,
} from '@archiver/greenapi';
import {
  pause,
  type Ingest,
  type IngestOutcome,
  type InstanceConfig,
  type LastSeen,
  type Metrics,
} from '@archiver/core';

export type PollerDeps = {
  /** The instances to poll (see `instancesToPoll`). */
  instances: InstanceConfig[];
  clientFor: (instance: InstanceConfig) => GreenApiClient;
  ingest: Ingest;
  logger: Logger;
  metrics?: Metrics;
  /** Notes each instance's latest notification, for `archiver doctor`. */
  lastSeen?: LastSeen;
  /** Long-poll length in seconds; Green-API accepts 5–60. */
  receiveTimeoutSeconds?: number;
  /** Wait after a failure: from `minMs`, doubling to `maxMs`, reset by a success. */
  backoff?: { minMs: number; maxMs: number };
};

export type Poller = {
  start(): void;
  /**
   * Polls exactly these instances from now on (a reload): new ones start, removed ones stop
   * after the notification in hand, changed ones (token, apiUrl) restart.
   */
  update(instances: InstanceConfig[]): void;
  /** Aborts the long polls, lets each loop finish the notification it holds, then resolves. */
  stop(): Promise<void>;
};

const RECEIVE_TIMEOUT_SECONDS = 20;
const BACKOFF = { minMs: 1000, maxMs: 60_000 };
/** deleteNotification is repeated on 5xx / network errors (docs/greenapi.md §7.2), this many times. */
const DELETE_ATTEMPTS = 3;

/** The instances whose delivery is `poll`; when none says so, every configured instance (docs/architecture.md §7). */
export function instancesToPoll(instances: InstanceConfig[]): InstanceConfig[] {
  const polled = instances.filter((i) => i.delivery === 'poll');
  return polled.length > 0 ? polled : instances;
}

/**
 * One loop per instance: receiveNotification → ingest (the webhook path's classification,
 * dedupe and quarantine) → deleteNotification, strictly in that order. A notification is
 * deleted only once ingest has stored it (job in Redis, quarantined or counted); when ingest
 * throws, it stays in Green-API's queue and comes back. A delete that never lands only
 * means the same notification comes back and is recognised as a duplicate.
 */
export function createPoller(deps: PollerDeps): Poller {
  const stopping = new AbortController();
  const receiveTimeout = deps.receiveTimeoutSeconds ?? RECEIVE_TIMEOUT_SECONDS;
  const backoffOpts = deps.backoff ?? BACKOFF;
  type Loop = { instance: InstanceConfig; stop: AbortController; done: Promise<void> };
  const loops = new Map<string, Loop>();
  const draining = new Set<Promise<void>>();
  let started = false;

  function startLoop(instance: InstanceConfig): void {
    const stop = new AbortController();
    const signal = AbortSignal.any([stopping.signal, stop.signal]);
    const done = pollInstance(instance, signal);
    loops.set(instance.idInstance, { instance, stop, done });
  }

  async function pollInstance(instance: InstanceConfig, signal: AbortSignal): Promise<void> {
    const client = deps.clientFor(instance);
    const log = deps.logger.child({ component: 'poller', idInstance: instance.idInstance });
    const backoff = createBackoff(backoffOpts);
    log.info({ receiveTimeout }, 'polling');
    while (!signal.aborted) {
      const ok = await pollOnce(client, instance, log, backoff, signal);
      if (ok) backoff.reset();
    }
    log.info('stopped polling');
  }

  /** One receive and, if something came, its handling. False when the loop should back off (it already has). */
  async function pollOnce(
    client: GreenApiClient,
    instance: InstanceConfig,
    log: Logger,
    backoff: Backoff,
    signal: AbortSignal,
  ): Promise<boolean> {
    let notification: Notification | null;
    try {
      notification = await client.receiveNotification({ receiveTimeout }, { signal });
    } catch (err) {
      if (signal.aborted) return true;
      if (isError(err, GreenApiRateLimitError)) {
        deps.metrics?.rateLimited.inc({ instance: instance.idInstance });
      }
      const delayMs = backoff.next(
        isError(err, GreenApiRateLimitError) ? err.retryAfterMs : undefined,
      );
      log.warn({ err, delayMs }, 'receiveNotification failed; backing off');
      await pause(delayMs, signal);
      return false;
    }
    if (notification === null) return true;
    // From here on the stop signal is not passed on: the notification in hand is finished.
    const handled = await handle(client, instance, notification, log);
    if (handled) return true;
    await pause(backoff.next(), stopping.signal);
    return false;
  }

  async function handle(
    client: GreenApiClient,
    instance: InstanceConfig,
    { receiptId, body }: Notification,
    log: Logger,
  ): Promise<boolean> {
    let outcome: IngestOutcome;
    try {
      outcome = await deps.ingest(body, JSON.stringify(body), 'poll');
    } catch (err) {
      log.error(
        { err, receiptId },
        'could not store the notification; it stays in the queue and comes back',
      );
      return false;
    }
    count(instance, outcome);
    deps.lastSeen?.touch(instance.idInstance);
    log.debug(
      { receiptId, outcome: outcome.outcome, typeWebhook: outcome.typeWebhook },
      'notification stored',
    );
    return deleteNotification(client, receiptId, log);
  }

  async function deleteNotification(
    client: GreenApiClient,
    receiptId: number,
    log: Logger,
  ): Promise<boolean> {
    for (let attempt = 1; ; attempt += 1) {
      try {
        const deleted = await client.deleteNotification(receiptId);
        if (!deleted) log.debug({ receiptId }, 'notification was already deleted');
        return true;
      } catch (err) {
        const again = attempt < DELETE_ATTEMPTS && isRetryable(err) && !stopping.signal.aborted;
        log.warn(
          { err, receiptId, attempt },
          again
            ? 'deleteNotification failed; repeating'
            : 'deleteNotification failed; the notification will come back as a duplicate',
        );
        if (!again) return false;
        await pause(backoffOpts.minMs * attempt, stopping.signal);
      }
    }
  }

  function count(instance: InstanceConfig, outcome: IngestOutcome) {
    deps.metrics?.webhooks.inc({
      type: outcome.typeWebhook ?? 'unknown',
      outcome: outcome.outcome,
    });
    deps.metrics?.webhooksByInstance.inc({ instance: instance.idInstance });
  }

  return {
    start() {
      if (started) return;
      started = true;
      for (const instance of deps.instances) startLoop(instance);
    },
    update(instances) {
      const wanted = new Map(instances.map((i) => [i.idInstance, i]));
      for (const [id, loop] of loops) {
        const next = wanted.get(id);
        if (next && JSON.stringify(next) === JSON.stringify(loop.instance)) continue;
        // The old loop finishes the notification in hand (a delete racing the new loop's
        // receive at worst brings a duplicate back, which ingest recognises).
        loop.stop.abort();
        loops.delete(id);
        draining.add(loop.done);
        void loop.done.finally(() => draining.delete(loop.done));
      }
      for (const [id, instance] of wanted) {
        if (!loops.has(id) && started) startLoop(instance);
      }
    },
    async stop() {
      stopping.abort();
      await Promise.all([...[...loops.values()].map((l) => l.done), ...draining]);
    },
  };
}

type Backoff = ReturnType<typeof createBackoff>;

function createBackoff({ minMs, maxMs }: { minMs: number; maxMs: number }) {
  let next = minMs;
  return {
    /** The delay to wait now; a server's Retry-After wins when it is longer. */
    next(hintMs?: number): number {
      const delay = Math.max(next, hintMs ?? 0);
      next = Math.min(maxMs, next * 2);
      return Math.min(delay, maxMs);
    },
    reset() {
      next = minMs;
    },
  };
}
