import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import { defineQueueScripts } from './queue.js';
import { defineQuarantineScripts } from './quarantine.js';
import { defineLimiterScripts } from './rate-limit.js';

/** A single Redis or a Redis Cluster: the archiver uses only what both answer. */
export type RedisClient = Redis | Cluster;

/** Where Redis is: a URL, or the configuration's `REDIS_URL` and `REDIS_CLUSTER`. */
export type RedisTarget = string | { redisUrl: string; redisCluster?: boolean };

/**
 * Workers wait for Redis forever (`maxRetriesPerRequest: null`, BullMQ's requirement for a
 * Worker). Producers fail fast instead, so the receiver answers 503 while Redis is down
 * rather than holding Green-API's request open.
 *
 * With `REDIS_CLUSTER`, `REDIS_URL` names one node of a Redis Cluster and the client is an
 * ioredis Cluster, which finds the other nodes from it and follows slots as they move. Every
 * key shares the queue prefix's hash tag (the configuration insists on one), so every script
 * and MULTI touches one slot.
 */
export function createRedis(
  target: RedisTarget,
  role: 'worker' | 'producer',
  extra: RedisOptions = {},
): RedisClient {
  const url = typeof target === 'string' ? target : target.redisUrl;
  const cluster = typeof target !== 'string' && target.redisCluster === true;
  const retryStrategy = (times: number) => Math.min(times * 200, 2000);
  const options: RedisOptions =
    role === 'worker'
      ? { maxRetriesPerRequest: null, enableReadyCheck: true }
      : {
          maxRetriesPerRequest: 1,
          enableOfflineQueue: false,
          connectTimeout: 1500,
          commandTimeout: 1500,
          retryStrategy,
        };
  const redis = cluster
    ? createCluster(url, { ...options, ...extra }, role === 'producer' ? retryStrategy : undefined)
    : new Redis(url, { ...options, ...extra });
  // Every archiver script up front: with auto-pipelining, one defined on first use would be
  // missing from a pipeline already open (the pipeline copies the scripts when it opens).
  defineQueueScripts(redis);
  defineLimiterScripts(redis);
  defineQuarantineScripts(redis);
  return redis;
}

/**
 * The options that are the cluster's own (offline queue, auto-pipelining, reconnects) move
 * from the per-node options to the Cluster's; the credentials and TLS of the URL go to
 * every node.
 */
function createCluster(
  url: string,
  options: RedisOptions,
  retryStrategy: ((times: number) => number) | undefined,
): Cluster {
  const parsed = new URL(url);
  const { enableOfflineQueue, enableAutoPipelining, enableReadyCheck, ...nodeOptions } = options;
  const clusterOptions: ClusterOptions = {
    redisOptions: {
      ...nodeOptions,
      ...(parsed.username ? { username: decodeURIComponent(parsed.username) } : {}),
      ...(parsed.password ? { password: decodeURIComponent(parsed.password) } : {}),
      ...(parsed.protocol === 'rediss:' ? { tls: {} } : {}),
    },
    ...(enableOfflineQueue !== undefined ? { enableOfflineQueue } : {}),
    ...(enableAutoPipelining !== undefined ? { enableAutoPipelining } : {}),
    ...(enableReadyCheck !== undefined ? { enableReadyCheck } : {}),
    ...(retryStrategy ? { clusterRetryStrategy: retryStrategy } : {}),
  };
  return new Cluster(
    [{ host: parsed.hostname, port: parsed.port ? Number(parsed.port) : 6379 }],
    clusterOptions,
  );
}
