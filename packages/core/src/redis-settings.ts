import type { Logger } from 'pino';
import type { RedisClient } from './redis.js';

/** A Redis setting that costs the archive evidence or memory, as the worker found it. */
export type RedisAdvice = {
  setting: 'maxmemory-policy' | 'appendonly' | 'hash-max-listpack-value';
  found: string;
  want: string;
  why: string;
};

/** What INFO and CONFIG GET answered; a managed Redis may refuse CONFIG (then undefined). */
export type RedisSettings = {
  maxmemoryPolicy: string | undefined;
  aofEnabled: boolean | undefined;
  hashMaxListpackValue: number | undefined;
};

/** Below this a queued job's hash leaves the compact encoding (BENCHMARKS.md, redis-memory). */
const LISTPACK_VALUE_WANTED = 4096;

/**
 * What is wrong with `s` for an archive. Eviction loses jobs whose webhook was already
 * answered 200; without the AOF a restart does the same (a managed Redis may keep data by
 * replication instead, which INFO cannot show, so that one is advice); the small listpack
 * limit only costs memory, about a third more per queued job.
 */
export function redisAdvice(s: RedisSettings): RedisAdvice[] {
  const advice: RedisAdvice[] = [];
  if (s.maxmemoryPolicy !== undefined && s.maxmemoryPolicy !== 'noeviction') {
    advice.push({
      setting: 'maxmemory-policy',
      found: s.maxmemoryPolicy,
      want: 'noeviction',
      why: 'a full Redis evicts keys: queued jobs already answered 200 are lost',
    });
  }
  if (s.aofEnabled === false) {
    advice.push({
      setting: 'appendonly',
      found: 'no',
      want: 'yes',
      why: 'a restart loses every queued job, unless the provider keeps data by replication',
    });
  }
  if (s.hashMaxListpackValue !== undefined && s.hashMaxListpackValue < LISTPACK_VALUE_WANTED) {
    advice.push({
      setting: 'hash-max-listpack-value',
      found: String(s.hashMaxListpackValue),
      want: String(LISTPACK_VALUE_WANTED),
      why: 'each queued job takes a third to a half more memory',
    });
  }
  return advice;
}

/** Reads the settings of one Redis; on a Cluster, of the node the client asks. */
export async function readRedisSettings(redis: RedisClient): Promise<RedisSettings> {
  const info = await redis.info();
  const field = (name: string) => new RegExp(`^${name}:(\\S+)`, 'm').exec(info)?.[1];
  const aof = field('aof_enabled');
  return {
    maxmemoryPolicy: field('maxmemory_policy'),
    aofEnabled: aof === undefined ? undefined : aof === '1',
    hashMaxListpackValue: await configNumber(redis, 'hash-max-listpack-value'),
  };
}

async function configNumber(redis: RedisClient, name: string): Promise<number | undefined> {
  try {
    const answer = (await redis.call('CONFIG', 'GET', name)) as unknown;
    const value = Array.isArray(answer) ? Number(answer[1]) : NaN;
    return Number.isFinite(value) ? value : undefined;
  } catch {
    return undefined; // CONFIG is often disabled on a managed Redis: INFO is all there is
  }
}

/** Logs each piece of advice once, at start-up; a Redis that cannot be read is not an error. */
export async function logRedisAdvice(redis: RedisClient, logger: Logger): Promise<RedisAdvice[]> {
  try {
    const advice = redisAdvice(await readRedisSettings(redis));
    for (const a of advice) {
      logger.warn(
        { redisSetting: a },
        `Redis ${a.setting} is ${a.found}, want ${a.want}: ${a.why}`,
      );
    }
    return advice;
  } catch (err) {
    logger.debug({ err }, 'Redis settings not read');
    return [];
  }
}
