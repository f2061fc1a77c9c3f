import { UnrecoverableError, type Job } from 'bullmq';
import type { Logger } from 'pino';
import {
  checkInstance,
  instanceCheckRequestSchema,
  problemsOf,
  saveReadiness,
  type RedisKeys,
  type InstanceConfig,
  type LastSeen,
  type RateLimiter,
  type RedisClient,
} from '@archiver/core';
import type { GreenApiClient } from '@archiver/greenapi';

export type CheckProcessorDeps = {
  instances: Map<string, InstanceConfig>;
  clientFor: (instance: InstanceConfig) => GreenApiClient;
  limiter: RateLimiter;
  lastSeen: LastSeen;
  redis: RedisClient;
  keys: RedisKeys;
  webhookUrl: string | undefined;
  logger: Logger;
};

/**
 * The scheduled form of `archiver doctor` for one instance: runs its checks and keeps the
 * result in Redis, where every worker's `archiver_instance_ready` gauge reads it. A failed
 * check is logged (one line per problem, with the fix); it is not a failed job.
 */
export function createCheckProcessor(deps: CheckProcessorDeps) {
  const log = deps.logger.child({ component: 'instance-check' });
  return async function check(job: Job) {
    const parsed = instanceCheckRequestSchema.safeParse(job.data);
    if (!parsed.success) throw new UnrecoverableError('invalid instance check request');
    const { idInstance } = parsed.data;
    const instance = deps.instances.get(idInstance);
    // Removed since the job was scheduled: its scheduler goes at the next sync.
    if (!instance) return { idInstance, skipped: 'not configured' };
    const seen = await deps.lastSeen.read([idInstance]);
    const report = await checkInstance(instance, {
      client: deps.clientFor(instance),
      limiter: deps.limiter,
      lastSeenAt: seen.get(idInstance),
      webhookUrl: deps.webhookUrl,
    });
    await saveReadiness(deps.redis, deps.keys, report);
    const problems = problemsOf(report);
    for (const p of problems) {
      log.warn({ idInstance, check: p.check, detail: p.detail, fix: p.fix }, 'instance not ready');
    }
    return { idInstance, problems: problems.map((p) => p.check) };
  };
}
