import { generateKeyPairSync } from 'node:crypto';
import type { S3Connection } from '@archiver/testkit';
import type { BenchInstance } from './fixtures.js';

/**
 * A seal signing key for the run: production sets one, so the workers measured enter every
 * object in the custody log and seal, as deployed (docs/custody.md).
 */
const SEAL_SIGNING_KEY = generateKeyPairSync('ed25519')
  .privateKey.export({ type: 'pkcs8', format: 'pem' })
  .toString();

/**
 * `BENCH_WORKER_ENV='{"SEAL_SIGNING_KEY":null}'` sets (a string) or unsets (null) worker
 * variables over the bench's own, to attribute a cost to one feature by switching it off in
 * an otherwise identical run.
 */
function withOverrides(env: Record<string, string>): Record<string, string> {
  const raw = process.env.BENCH_WORKER_ENV;
  if (!raw) return env;
  const parsed: unknown = JSON.parse(raw);
  if (
    typeof parsed !== 'object' ||
    parsed === null ||
    Object.values(parsed).some((v) => typeof v !== 'string' && v !== null)
  ) {
    throw new Error('BENCH_WORKER_ENV must be a JSON object of strings and nulls');
  }
  const out = { ...env };
  for (const [name, value] of Object.entries(parsed as Record<string, string | null>)) {
    if (value === null) delete out[name];
    else out[name] = value;
  }
  return out;
}

/** The environment a worker process gets: the production variables, pointing at bench services. */
export function workerEnv(o: {
  redisUrl: string;
  prefix: string;
  s3: S3Connection;
  fakeUrl: string;
  instances: BenchInstance[];
  extra?: Record<string, string>;
}): Record<string, string> {
  return withOverrides({
    REDIS_URL: o.redisUrl,
    QUEUE_PREFIX: o.prefix,
    GREEN_API_INSTANCES: JSON.stringify(o.instances.map((i) => ({ ...i, apiUrl: o.fakeUrl }))),
    S3_BUCKET: o.s3.bucket,
    S3_PREFIX: `${o.prefix}/`,
    S3_ENDPOINT: o.s3.endpoint,
    AWS_ACCESS_KEY_ID: o.s3.accessKeyId,
    AWS_SECRET_ACCESS_KEY: o.s3.secretAccessKey,
    AWS_REGION: o.s3.region,
    METRICS_PORT: '0',
    BACKFILL_INTERVAL_MINUTES: '0',
    SEAL_SIGNING_KEY,
    LOG_LEVEL: 'info',
    // An HTTPS test S3 has a certificate made for the run; Node trusts it from this file.
    ...(o.s3.caFile ? { NODE_EXTRA_CA_CERTS: o.s3.caFile } : {}),
    ...o.extra,
  });
}
