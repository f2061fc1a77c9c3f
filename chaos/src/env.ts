import { S3Client } from '@aws-sdk/client-s3';
import {
  s3ClientConfig,
  startFakeGreenApi,
  startRedis,
  startS3,
  type FakeGreenApi,
  type RedisService,
  type S3Connection,
  type S3Service,
} from '@archiver/testkit';
import { startTcpProxy, type TcpProxy } from './tcp-proxy.js';

export type ChaosInstance = {
  idInstance: string;
  apiTokenInstance: string;
  kind: 'whatsapp';
  webhookToken: string;
};

export const INSTANCES: ChaosInstance[] = [0, 1].map((i) => ({
  idInstance: String(1101000001 + i),
  apiTokenInstance: `chaos-api-token-${i}-3e1b`,
  kind: 'whatsapp',
  webhookToken: `chaos-webhook-token-${i}-77ac`,
}));

/** Rate limits are lifted: the scenarios are about data integrity under faults, not budgets. */
const LIFTED_RPS = 1000;

/**
 * What every scenario runs against: Redis with AOF on, S3 (MinIO in a container where a runtime
 * exists, else s3rver in this process) behind a TCP proxy that can be cut, and the fake
 * Green-API. Scenarios share it and isolate themselves by queue prefix and S3 prefix.
 */
export type ChaosEnv = {
  redis: RedisService;
  s3: S3Service;
  /** Workers reach S3 through this; the audit goes direct. */
  s3Proxy: TcpProxy;
  fake: FakeGreenApi;
  /** Direct S3 client for the audit. */
  audit: S3Client;
  conn: S3Connection;
  close(): Promise<void>;
};

export async function startChaosEnv(): Promise<ChaosEnv> {
  const redis = await startRedis({ appendOnly: true });
  const s3 = await startS3();
  const target = new URL(s3.endpoint);
  const s3Proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port) });
  const fake = await startFakeGreenApi();
  for (const i of INSTANCES) fake.addInstance({ ...i, rps: LIFTED_RPS });
  const conn = s3.connection;
  const audit = new S3Client(s3ClientConfig(conn));
  return {
    redis,
    s3,
    s3Proxy,
    fake,
    audit,
    conn,
    async close() {
      audit.destroy();
      await fake.close();
      await s3Proxy.close();
      await s3.stop();
      await redis.stop();
    },
  };
}

/** A worker process's environment: production variables pointing at this env, for `prefix`. */
export function workerEnv(env: ChaosEnv, prefix: string, extra: Record<string, string> = {}) {
  return {
    REDIS_URL: env.redis.url,
    QUEUE_PREFIX: prefix,
    GREEN_API_INSTANCES: JSON.stringify(INSTANCES.map((i) => ({ ...i, apiUrl: env.fake.url }))),
    S3_BUCKET: env.conn.bucket,
    S3_PREFIX: `${prefix}/`,
    S3_ENDPOINT: env.s3Proxy.url,
    AWS_ACCESS_KEY_ID: env.conn.accessKeyId,
    AWS_SECRET_ACCESS_KEY: env.conn.secretAccessKey,
    AWS_REGION: env.conn.region,
    METRICS_PORT: '0',
    BACKFILL_INTERVAL_MINUTES: '0',
    DOWNLOAD_RPS: String(LIFTED_RPS),
    WORKER_CONCURRENCY: '16',
    RETRY_BASE_DELAY_MS: '100',
    RETRY_MAX_DELAY_MS: '1000',
    SHUTDOWN_TIMEOUT_MS: '5000',
    // info: 'worker started' tells the kill loop the process is up.
    LOG_LEVEL: 'info',
    ...extra,
  };
}
