import { classifyWebhook } from '@archiver/greenapi';
import type { Telemetry } from 'bullmq';
import type { RedisClient } from './redis.js';
import type { Config } from './config.js';
import { implausibleTimestamp } from './deadline.js';
import { instanceMap, retentionResolver, type InstanceConfig } from './instances.js';
import { jobFromWebhook, resolveKind } from './job.js';
import { createJobWriter, type JobWriter } from './job-writer.js';
import { createQuarantine, type Quarantine, type QuarantineDrop } from './quarantine.js';
import type { JobSource } from './job-catalog.js';
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
      quarantineId: string;
      reason: string;
      typeWebhook?: string;
      idInstance?: string;
    };

/** Every way in but the journals, whose finds the backfill writes itself. */
export type IngestSource = Exclude<JobSource, 'journal'>;

/**
 * Classify → enqueue a file job (which writes the file and its record) / a record job for
 * every other message and event / quarantine the rest. Shared by the webhook receiver, the
 * poller and quarantine replay, so every path treats a body the same. The caller has
 * authenticated the body. Throws only when Redis could not store it. `ignored` is no longer
 * produced: every known body is kept (docs/conversation.md).
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
    const result = classifyWebhook(body);
    if (result.kind === 'unrecognised') {
      const quarantineId = await deps.quarantine.add({
        receivedAt: Date.now(),
        reason: result.reason,
        idInstance: result.idInstance,
        typeWebhook: result.typeWebhook,
        body: rawText,
      });
      return {
        outcome: 'quarantined',
        quarantineId,
        reason: result.reason,
        typeWebhook: result.typeWebhook,
        idInstance: result.idInstance,
      };
    }
    // A polled notification's body was re-serialised from the poll response: its hash is
    // of those bytes, said so by `exact: false`.
    const received = receivedOf(rawText, source !== 'poll');
    if (result.kind === 'event') {
      const { event } = result;
      const instance = deps.instances.get(event.instanceData.idInstance);
      const kind = resolveKind(instance, event.instanceData.typeInstance);
      const job = recordJobFromEvent(event, body, result.chatId, kind, source, received);
      const written = await deps.records.write(job);
      return { ...written, typeWebhook: event.typeWebhook, idInstance: job.idInstance };
    }
    const { webhook } = result;
    const instance = deps.instances.get(webhook.instanceData.idInstance);
    const kind = resolveKind(instance, webhook.instanceData.typeInstance);
    // A message time far ahead (or not a date) would park a file job until a deadline years
    // away and date any record's folder wrongly; the worker refuses such a job too, for the
    // journal's path.
    const implausible = implausibleTimestamp({
      timestamp: webhook.timestamp,
      receivedAt: Date.now(),
    });
    if (implausible) {
      const quarantineId = await deps.quarantine.add({
        receivedAt: Date.now(),
        reason: implausible,
        idInstance: webhook.instanceData.idInstance,
        typeWebhook: webhook.typeWebhook,
        body: rawText,
      });
      return {
        outcome: 'quarantined',
        quarantineId,
        reason: implausible,
        typeWebhook: webhook.typeWebhook,
        idInstance: webhook.instanceData.idInstance,
      };
    }
    const written =
      result.kind === 'file'
        ? await deps.writer.write({ ...jobFromWebhook(body, webhook, kind, source), received })
        : await deps.records.write(recordJobFromMessage(webhook, body, kind, source, received));
    return {
      ...written,
      typeWebhook: webhook.typeWebhook,
      idInstance: webhook.instanceData.idInstance,
    };
  };
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
