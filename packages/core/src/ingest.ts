import { classifyWebhook, peekIdInstance } from '@archiver/greenapi';
import type { Telemetry } from 'bullmq';
import type { RedisClient } from './redis.js';
import type { Config } from './config.js';
import { implausibleTimestamp } from './deadline.js';
import { instanceMap, retentionResolver, type InstanceConfig } from './instances.js';
import { jobFromWebhook, resolveKind, type ArchiveJob } from './job.js';
import { createJobWriter, type JobWriter } from './job-writer.js';
import { createQuarantine, type Quarantine, type QuarantineDrop } from './quarantine.js';
import type { JobSource, RecordJobData } from './job-catalog.js';
import {
  createArchiveQueue,
  createRecordQueue,
  type ArchiveQueue,
  type RecordQueue,
} from './queue.js';
import { redisKeys } from './redis-keys.js';
import { receivedOf, recordJobFromEvent, recordJobFromMessage } from './record-job.js';
import { createRecordJobWriter, type RecordJobWriter } from './record-job-writer.js';

export type IngestOutcome =
  | { outcome: 'accepted' | 'duplicate'; jobId: string; typeWebhook: string; idInstance: string }
  | { outcome: 'ignored'; typeWebhook: string; idInstance: string }
  | {
      outcome: 'quarantined';
      /** Absent for a replay: the replayed entry is the one kept. */
      quarantineId?: string;
      reason: string;
      typeWebhook?: string;
      idInstance?: string;
    };

/** Every way in but the journals, whose finds the backfill writes itself. */
export type IngestSource = Exclude<JobSource, 'journal'>;

/** What ingest will do with a body, decided before anything is written. */
type Plan =
  | { kind: 'quarantine'; reason: string; idInstance?: string; typeWebhook?: string }
  | { kind: 'file'; job: ArchiveJob; typeWebhook: string; idInstance: string }
  | { kind: 'record'; job: RecordJobData; typeWebhook: string; idInstance: string };

/**
 * Classify → enqueue a file job (which writes the file and its record) / a record job for
 * every other message and event / quarantine the rest. Shared by the webhook receiver, the
 * poller and quarantine replay, so every path treats a body the same. The caller has
 * authenticated the body. Throws only when Redis could not store it: a body that cannot be
 * made into a job is quarantined instead, since a 503 would be redelivered for a day and fail
 * the same way each time. `ignored` is no longer produced: every known body is kept
 * (docs/conversation.md).
 */
export function createIngestor(deps: {
  writer: JobWriter;
  records: RecordJobWriter;
  quarantine: Quarantine;
  instances: Map<string, InstanceConfig>;
}) {
  return async function ingest(
    body: unknown,
    rawText: string,
    source: IngestSource,
  ): Promise<IngestOutcome> {
    const plan = planOrQuarantine(deps.instances, body, rawText, source);
    switch (plan.kind) {
      case 'quarantine': {
        const { reason, idInstance, typeWebhook } = plan;
        // A replayed body still in quarantine stays where it is: a copy would only push
        // other bodies out over the caps.
        if (source === 'replay') return { outcome: 'quarantined', reason, typeWebhook, idInstance };
        const quarantineId = await deps.quarantine.add({
          receivedAt: Date.now(),
          reason: plan.reason,
          idInstance: plan.idInstance,
          typeWebhook: plan.typeWebhook,
          body: rawText,
        });
        return { outcome: 'quarantined', quarantineId, reason, typeWebhook, idInstance };
      }
      case 'file':
      case 'record': {
        const written =
          plan.kind === 'file'
            ? await deps.writer.write(plan.job)
            : await deps.records.write(plan.job);
        return { ...written, typeWebhook: plan.typeWebhook, idInstance: plan.idInstance };
      }
    }
  };
}

/**
 * The plan for a body, or its quarantine when building the job throws: that is the body's
 * fault (JSON nested thousands of levels deep cannot be serialised into a job), never
 * Redis's, and it would throw again on every redelivery.
 */
function planOrQuarantine(
  instances: Map<string, InstanceConfig>,
  body: unknown,
  rawText: string,
  source: IngestSource,
): Plan {
  try {
    return planFor(instances, body, rawText, source);
  } catch (err) {
    const peeked = peekIdInstance(body);
    return {
      kind: 'quarantine',
      reason: `unpackable: ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`,
      idInstance: peeked,
      typeWebhook: typeWebhookOf(body),
    };
  }
}

function planFor(
  instances: Map<string, InstanceConfig>,
  body: unknown,
  rawText: string,
  source: IngestSource,
): Plan {
  const result = classifyWebhook(body);
  if (result.kind === 'unrecognised') {
    const { reason, idInstance, typeWebhook } = result;
    return { kind: 'quarantine', reason, idInstance, typeWebhook };
  }
  const base = result.kind === 'event' ? result.event : result.webhook;
  const { idInstance } = base.instanceData;
  const { typeWebhook } = base;
  const instance = instances.get(idInstance);
  // The global WEBHOOK_TOKEN vouches for the sender, not for the instance: a job for an
  // instance no worker can download for would wait until its deadline (or for ever, with a
  // made-up id). Quarantined, it can be replayed once the instance is configured.
  if (!instance) {
    const reason = `idInstance ${idInstance} is not a configured instance`;
    return { kind: 'quarantine', reason, idInstance, typeWebhook };
  }
  // A polled notification's body was re-serialised from the poll response: its hash is
  // of those bytes, said so by `exact: false`.
  const received = receivedOf(rawText, source !== 'poll');
  if (result.kind === 'event') {
    const kind = resolveKind(instance, result.event.instanceData.typeInstance);
    const job = recordJobFromEvent(result.event, body, result.chatId, kind, source, received);
    return { kind: 'record', job, typeWebhook, idInstance: job.idInstance };
  }
  const { webhook } = result;
  // A message time far ahead (or not a date) would park a file job until a deadline years
  // away and date any record's folder wrongly; the worker refuses such a job too, for the
  // journal's path.
  const implausible = implausibleTimestamp({
    timestamp: webhook.timestamp,
    receivedAt: Date.now(),
  });
  if (implausible) return { kind: 'quarantine', reason: implausible, idInstance, typeWebhook };
  const kind = resolveKind(instance, webhook.instanceData.typeInstance);
  return result.kind === 'file'
    ? {
        kind: 'file',
        job: { ...jobFromWebhook(body, webhook, kind, source), received },
        typeWebhook,
        idInstance,
      }
    : {
        kind: 'record',
        job: recordJobFromMessage(webhook, body, kind, source, received),
        typeWebhook,
        idInstance,
      };
}

function typeWebhookOf(body: unknown): string | undefined {
  const type =
    typeof body === 'object' && body !== null
      ? (body as { typeWebhook?: unknown }).typeWebhook
      : undefined;
  return typeof type === 'string' ? type.slice(0, 100) : undefined;
}

export type Ingest = ReturnType<typeof createIngestor>;

/**
 * The whole ingest side on one Redis connection, as the receiver, the poller and quarantine
 * replay run it: archive queue, group-commit writer, quarantine and the classifier in front
 * of them. A caller that already has the archive queue (the CLI) passes it.
 */
export function createIngestPath(
  redis: RedisClient,
  config: Pick<Config, 'queuePrefix' | 'instances' | 'retentionDays' | 'quarantineMax'> &
    Partial<Pick<Config, 'quarantineMaxBytes'>>,
  opts: {
    telemetry?: Telemetry;
    queue?: ArchiveQueue;
    recordQueue?: RecordQueue;
    /** Bodies the quarantine dropped to honour its caps (count them, log them). */
    onQuarantineDrop?: (drops: QuarantineDrop[]) => void;
    /** A live map (an instance registry's), so a reload reaches ingest without a restart. */
    instances?: Map<string, InstanceConfig>;
  } = {},
) {
  const keys = redisKeys(config.queuePrefix);
  const queue = opts.queue ?? createArchiveQueue(redis, config.queuePrefix, opts.telemetry);
  const instances = opts.instances ?? instanceMap(config.instances);
  const writer = createJobWriter({
    redis,
    queue,
    keys,
    retentionDays: retentionResolver(instances, config.retentionDays),
  });
  const recordQueue =
    opts.recordQueue ?? createRecordQueue(redis, config.queuePrefix, opts.telemetry);
  const records = createRecordJobWriter(recordQueue);
  const quarantine = createQuarantine(redis, keys, config.quarantineMax, {
    maxBytes: config.quarantineMaxBytes,
    onDrop: opts.onQuarantineDrop,
  });
  const ingest = createIngestor({ writer, records, quarantine, instances });
  return { keys, queue, recordQueue, instances, writer, records, quarantine, ingest };
}
