import { readFileSync } from 'node:fs';
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { z } from 'zod';
import { idInstanceString } from '@archiver/greenapi';
import { instanceSchema, parseInstances, type InstanceConfig } from './instances.js';
import { securityProblems } from './config-refusals.js';

/** Strict booleans: `z.coerce.boolean()` would read "false" as true. */
const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((value) => value === 'true' || value === '1' || value === 'yes');
const port = z.coerce.number().int().min(0).max(65535);
const positiveInt = z.coerce.number().int().positive();
const nonNegativeInt = z.coerce.number().int().nonnegative();

/**
 * Every environment variable the archiver reads (README.md, Configuration). Names are a contract with
 * operators and deployment files: do not rename.
 */
export const envSchema = z.object({
  /** Redis for BullMQ, quarantine, rate budgets and dedupe markers. */
  REDIS_URL: z.url().default('redis://127.0.0.1:6379'),
  /** `REDIS_URL` is one node of a Redis Cluster: connect with a cluster client. */
  REDIS_CLUSTER: bool.default(false),
  /** BullMQ key prefix; on Redis Cluster use a hash tag such as `{archiver}`. */
  QUEUE_PREFIX: z.string().min(1).default('archiver'),
  /** Receiver HTTP port. */
  PORT: port.default(3000),
  /** Worker health/metrics port. */
  METRICS_PORT: port.default(9464),
  /**
   * Poller health/metrics port: its own, because a worker and a poller on one host read the
   * same env file, and a shared METRICS_PORT made the second to start fail (EADDRINUSE).
   */
  POLLER_METRICS_PORT: port.default(9465),
  /** Webhook token for every instance without its own `webhookToken`. */
  WEBHOOK_TOKEN: z.string().min(1).optional(),
  /**
   * The receiver's public webhook URL, as Green-API should call it: what `archiver instances
   * connect` sets and `archiver doctor` and the worker's checks expect.
   */
  WEBHOOK_URL: z.url().optional(),
  /** Escape hatch for local experiments only. */
  ALLOW_UNAUTHENTICATED_WEBHOOKS: bool.default(false),
  /** Accept a plain-http apiUrl/mediaUrl to a non-loopback host (the token travels in clear). */
  ALLOW_INSECURE_API_URL: bool.default(false),
  /** Single-instance form: the instance's apiUrl. */
  GREEN_API_URL: z.url().default('https://api.green-api.com'),
  GREEN_API_ID_INSTANCE: idInstanceString.optional(),
  GREEN_API_TOKEN: z.string().min(1).optional(),
  /** JSON array of instances, or `@path/to/file.json`. */
  GREEN_API_INSTANCES: z.string().min(1).optional(),
  /** downloadFile requests per second per instance; default WhatsApp 5, MAX 1. */
  DOWNLOAD_RPS: z.coerce.number().positive().optional(),
  /** Archive jobs in flight per worker process; each holds up to 4 × 8 MiB of upload buffer. */
  WORKER_CONCURRENCY: positiveInt.default(16),
  /** Green-API storage window in days: a job's deadline is message time + this. */
  RETENTION_DAYS: z.coerce.number().positive().default(15),
  RETRY_BASE_DELAY_MS: positiveInt.default(5000),
  RETRY_MAX_DELAY_MS: positiveInt.default(3_600_000),
  S3_BUCKET: z.string().min(3).optional(),
  S3_PREFIX: z.string().default(''),
  S3_ENDPOINT: z.url().optional(),
  S3_REGION: z.string().min(1).default('us-east-1'),
  S3_FORCE_PATH_STYLE: bool.optional(),
  S3_OBJECT_LOCK_MODE: z.enum(['GOVERNANCE', 'COMPLIANCE']).optional(),
  S3_OBJECT_LOCK_DAYS: positiveInt.optional(),
  S3_SSE: z.enum(['AES256', 'aws:kms']).optional(),
  S3_SSE_KMS_KEY_ID: z.string().min(1).optional(),
  /**
   * How records (`message.json`) are kept write-once: `true` sends S3 conditional writes
   * (`If-None-Match: *`, `If-Match`), `false` reads before writing (for stores that ignore
   * those headers), `auto` asks the store once at start-up which it is.
   */
  S3_CONDITIONAL_WRITES: z.enum(['auto', 'true', 'false']).default('auto'),
  /**
   * Legal holds (docs/legal-hold.md): how old, in seconds, a worker's copy of the active holds
   * may be before it reads `_holds/` again; `archiver hold` waits this long (plus a margin)
   * before its catch-up pass. Fractions allowed, for tests.
   */
  HOLD_REFRESH_SECONDS: z.coerce.number().positive().default(30),
  /** Hosts a downloadUrl may point to (SSRF guard); `*.example.com` matches subdomains. */
  DOWNLOAD_HOSTS: z.string().optional(),
  /** Unrecognised webhook bodies kept for inspection and replay (newest first). */
  QUARANTINE_MAX: positiveInt.default(10_000),
  /** ...and at most this many bytes of them in all (Redis memory); the oldest go first. */
  QUARANTINE_MAX_BYTES: positiveInt.default(64 * 1024 * 1024),
  /** Journal reconciliation: how often and how far back, in minutes; 0 turns it off. */
  BACKFILL_INTERVAL_MINUTES: nonNegativeInt.default(30),
  BACKFILL_WINDOW_MINUTES: nonNegativeInt.default(1440),
  /**
   * Statuses ("stories", no webhook): how often getIncoming/OutgoingStatuses are read and how
   * far back, in minutes; 0 turns it off. Green-API keeps them 30 days, so a missed run is
   * caught up by a window longer than the interval.
   */
  STATUSES_INTERVAL_MINUTES: nonNegativeInt.default(60),
  STATUSES_WINDOW_MINUTES: nonNegativeInt.default(1440),
  /** How often the worker runs `archiver doctor`'s checks on each instance; 0 turns it off. */
  INSTANCE_CHECK_INTERVAL_MINUTES: nonNegativeInt.default(15),
  ADMIN_USER: z.string().min(1).optional(),
  ADMIN_PASSWORD: z.string().min(1).optional(),
  /** The review page's credentials (`/review`, HTTP basic auth): both or neither. */
  REVIEW_USER: z.string().min(1).optional(),
  REVIEW_PASSWORD: z.string().min(1).optional(),
  /**
   * The dashboard changes nothing unless this is `false`; even then it never empties,
   * obliterates or cleans a queue (apps/receiver/src/routes/admin-guard.ts).
   */
  ADMIN_READ_ONLY: bool.default(true),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Receiver: the longest a client may take to send a whole request (slow bodies are cut). */
  HTTP_REQUEST_TIMEOUT_MS: positiveInt.default(30_000),
  /** Receiver: the longest for a request's headers, and for a new connection's first byte. */
  HTTP_HEADERS_TIMEOUT_MS: positiveInt.default(10_000),
  /** Receiver: open connections at most; more are closed at once. */
  HTTP_MAX_CONNECTIONS: positiveInt.default(1024),
  /** Webhook bodies larger than this are refused with 413 (thumbnails make them ~100 KB). */
  WEBHOOK_BODY_LIMIT_BYTES: positiveInt.default(2 * 1024 * 1024),
  /** A job's lock; a killed worker's jobs run again within about 1.5 × this. */
  WORKER_LOCK_DURATION_MS: positiveInt.default(60_000),
  /** How long SIGTERM waits for in-flight jobs before closing anyway. */
  SHUTDOWN_TIMEOUT_MS: positiveInt.default(60_000),
  /** Custody log: the longest an object waits for its seal (fractions allowed, for tests). */
  SEAL_INTERVAL_MINUTES: z.coerce.number().positive().default(60),
  /** Ed25519 private key (PKCS#8 PEM, or `@path`) the seals are signed with; unset: no seals. */
  SEAL_SIGNING_KEY: z.string().min(1).optional(),
  /** Ed25519 public key (SPKI PEM, or `@path`) `archiver verify` checks seals with. */
  SEAL_PUBLIC_KEY: z.string().min(1).optional(),
  /** RFC 3161 time-stamping authority each seal's root is sent to. */
  SEAL_TSA_URL: z.url().optional(),
  /** OpenTelemetry tracing is on when this is set. */
  OTEL_EXPORTER_OTLP_ENDPOINT: z.url().optional(),
});

export type Env = z.infer<typeof envSchema>;
export type Role = 'receiver' | 'worker' | 'poller' | 'cli';

/*
 * What loadConfig returns, as zod schemas so the types are inferred rather than written a
 * second time beside the schemas they come from: enums come from envSchema, instances from
 * the instance schema. loadConfig builds the value (`toConfig`); it does not parse it again.
 */

export const s3ConfigSchema = z.object({
  bucket: z.string(),
  prefix: z.string(),
  endpoint: z.string().optional(),
  region: z.string(),
  forcePathStyle: z.boolean(),
  objectLock: z
    .object({ mode: envSchema.shape.S3_OBJECT_LOCK_MODE.unwrap(), days: z.number() })
    .optional(),
  sse: z
    .object({ type: envSchema.shape.S3_SSE.unwrap(), kmsKeyId: z.string().optional() })
    .optional(),
  /** S3_CONDITIONAL_WRITES: `auto` detects it at start-up. */
  conditionalWrites: z.enum(['auto', 'on', 'off']).optional(),
  /** HOLD_REFRESH_SECONDS in ms; absent: 30 s. */
  holdRefreshMs: z.number().optional(),
});

export type S3Config = z.output<typeof s3ConfigSchema>;

export const custodyConfigSchema = z.object({
  intervalMinutes: z.number(),
  /** PKCS#8 PEM; absent: objects are not entered in the custody log and nothing is sealed. */
  signingKey: z.string().optional(),
  /** SPKI PEM. */
  publicKey: z.string().optional(),
  tsaUrl: z.string().optional(),
});

export type CustodyConfig = z.output<typeof custodyConfigSchema>;

/** The shape of a loaded configuration. */
export const configSchema = z.object({
  redisUrl: z.string(),
  redisCluster: z.boolean(),
  queuePrefix: z.string(),
  port: z.number(),
  metricsPort: z.number(),
  pollerMetricsPort: z.number(),
  instances: z.array(instanceSchema),
  webhookToken: z.string().optional(),
  /** WEBHOOK_URL: where the instances should post (connect, doctor). */
  webhookUrl: z.string().optional(),
  allowUnauthenticatedWebhooks: z.boolean(),
  defaultDownloadRps: z.number().optional(),
  workerConcurrency: z.number(),
  retentionDays: z.number(),
  retry: z.object({ baseDelayMs: z.number(), maxDelayMs: z.number() }),
  /** Absent only for the receiver, which never touches S3. */
  s3: s3ConfigSchema.optional(),
  downloadHosts: z.array(z.string()),
  quarantineMax: z.number(),
  quarantineMaxBytes: z.number(),
  backfill: z.object({ intervalMinutes: z.number(), windowMinutes: z.number() }),
  statuses: z.object({ intervalMinutes: z.number(), windowMinutes: z.number() }),
  /** INSTANCE_CHECK_INTERVAL_MINUTES; 0: no scheduled checks. */
  instanceCheckIntervalMinutes: z.number(),
  admin: z.object({ user: z.string(), password: z.string(), readOnly: z.boolean() }).optional(),
  /** Unset: no review page (404). */
  review: z.object({ user: z.string(), password: z.string() }).optional(),
  logLevel: envSchema.shape.LOG_LEVEL.unwrap(),
  webhookBodyLimitBytes: z.number(),
  /** The receiver's HTTP limits (apps/receiver/src/server.ts). */
  http: z.object({
    requestTimeoutMs: z.number(),
    headersTimeoutMs: z.number(),
    maxConnections: z.number(),
  }),
  shutdownTimeoutMs: z.number(),
  lockDurationMs: z.number(),
  otelEndpoint: z.string().optional(),
  custody: custodyConfigSchema,
});

export type Config = z.output<typeof configSchema>;

/** All problems found, one line each, so an operator fixes them in one go. */
export class ConfigError extends Error {
  override name = 'ConfigError';
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

export const DEFAULT_DOWNLOAD_HOSTS = ['*.storage.yandexcloud.net', 'i.oneme.ru'];

type LoadOptions = {
  readFile?: (path: string) => string;
  /**
   * `npm run dev` only (apps/dev): accepts its demo credentials and short secrets, which
   * start-up refuses everywhere else.
   */
  dev?: boolean;
};

export function loadConfig(
  env: Record<string, string | undefined>,
  role: Role,
  { readFile = (path) => readFileSync(path, 'utf8'), dev = false }: LoadOptions = {},
): Config {
  // Compose and Kubernetes often pass unset variables as empty strings.
  const present = Object.fromEntries(
    Object.entries(env).filter(([, value]) => value !== undefined && value !== ''),
  );
  const parsed = envSchema.safeParse(present);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`),
    );
  }
  const e = parsed.data;
  const problems: string[] = [];
  const instances = parseInstances(e, readFile, problems);
  checkRole(e, role, instances, problems);
  const single = e.GREEN_API_ID_INSTANCE && e.GREEN_API_TOKEN ? e.GREEN_API_ID_INSTANCE : undefined;
  problems.push(
    ...securityProblems(
      {
        webhookToken: e.WEBHOOK_TOKEN,
        adminPassword: e.ADMIN_PASSWORD,
        reviewPassword: e.REVIEW_PASSWORD,
        instances,
        fromInstancesJson: new Set(
          instances.map((i) => i.idInstance).filter((id) => id !== single),
        ),
      },
      {
        role,
        dev,
        allowUnauthenticatedWebhooks: e.ALLOW_UNAUTHENTICATED_WEBHOOKS,
        allowInsecureApiUrl: e.ALLOW_INSECURE_API_URL,
      },
    ),
  );
  const custody = parseCustody(e, readFile, problems);
  if (problems.length > 0) throw new ConfigError(problems);
  return toConfig(e, instances, custody);
}

/** Redis hashes only the part between the first `{` and the next `}`, when not empty. */
function hasHashTag(prefix: string): boolean {
  const open = prefix.indexOf('{');
  return open !== -1 && prefix.indexOf('}', open + 1) > open + 1;
}

function checkRole(e: Env, role: Role, instances: InstanceConfig[], problems: string[]) {
  if ((e.ADMIN_USER === undefined) !== (e.ADMIN_PASSWORD === undefined)) {
    problems.push('ADMIN_USER and ADMIN_PASSWORD: set both to enable the dashboard, or neither');
  }
  if ((e.REVIEW_USER === undefined) !== (e.REVIEW_PASSWORD === undefined)) {
    problems.push(
      'REVIEW_USER and REVIEW_PASSWORD: set both to enable the review page, or neither',
    );
  }
  if (e.S3_OBJECT_LOCK_MODE && !e.S3_OBJECT_LOCK_DAYS) {
    problems.push('S3_OBJECT_LOCK_DAYS: required when S3_OBJECT_LOCK_MODE is set');
  }
  if (e.S3_SSE_KMS_KEY_ID && e.S3_SSE !== 'aws:kms') {
    problems.push('S3_SSE_KMS_KEY_ID: only meaningful with S3_SSE=aws:kms');
  }
  // Cluster runs a script or MULTI only on keys of one slot; a hash tag puts every key there.
  if (e.REDIS_CLUSTER && !hasHashTag(e.QUEUE_PREFIX)) {
    problems.push(
      'QUEUE_PREFIX: must contain a hash tag such as {archiver} when REDIS_CLUSTER=true',
    );
  }
  // Node refuses a headers timeout above the request timeout.
  if (e.HTTP_HEADERS_TIMEOUT_MS > e.HTTP_REQUEST_TIMEOUT_MS) {
    problems.push('HTTP_HEADERS_TIMEOUT_MS: must not exceed HTTP_REQUEST_TIMEOUT_MS');
  }
  if (e.RETRY_BASE_DELAY_MS > e.RETRY_MAX_DELAY_MS) {
    problems.push('RETRY_BASE_DELAY_MS: must not exceed RETRY_MAX_DELAY_MS');
  }
  if (role === 'receiver' && !e.ALLOW_UNAUTHENTICATED_WEBHOOKS) {
    const unauthenticated = instances.filter((i) => i.delivery === 'webhook' && !i.webhookToken);
    if (!e.WEBHOOK_TOKEN && (instances.length === 0 || unauthenticated.length > 0)) {
      problems.push(
        'WEBHOOK_TOKEN: required (or a webhookToken for every instance in GREEN_API_INSTANCES); ' +
          'set ALLOW_UNAUTHENTICATED_WEBHOOKS=true only for local experiments',
      );
    }
  }
  if (role === 'worker' || role === 'poller' || role === 'cli') {
    if (instances.length === 0) {
      problems.push(
        'GREEN_API_INSTANCES: no instance configured (or set GREEN_API_ID_INSTANCE and GREEN_API_TOKEN)',
      );
    }
  }
  if ((role === 'worker' || role === 'cli') && !e.S3_BUCKET) {
    problems.push('S3_BUCKET: required');
  }
}

/** The seal keys, read from `@path` where given and checked to be Ed25519 at start-up. */
function parseCustody(
  e: Env,
  readFile: (path: string) => string,
  problems: string[],
): CustodyConfig {
  const read = (name: string, value: string | undefined) => {
    if (value === undefined || !value.startsWith('@')) return value;
    try {
      return readFile(value.slice(1));
    } catch (err) {
      problems.push(`${name}: cannot read ${value.slice(1)}: ${(err as Error).message}`);
      return undefined;
    }
  };
  const signingKey = read('SEAL_SIGNING_KEY', e.SEAL_SIGNING_KEY);
  const publicKey = read('SEAL_PUBLIC_KEY', e.SEAL_PUBLIC_KEY);
  // The key's own text never goes into the message: it is a secret.
  if (signingKey !== undefined && !isEd25519(() => createPrivateKey(signingKey))) {
    problems.push('SEAL_SIGNING_KEY: not an Ed25519 private key in PKCS#8 PEM');
  }
  if (publicKey !== undefined && !isEd25519(() => createPublicKey(publicKey))) {
    problems.push('SEAL_PUBLIC_KEY: not an Ed25519 public key in PEM');
  }
  return {
    intervalMinutes: e.SEAL_INTERVAL_MINUTES,
    signingKey,
    publicKey,
    tsaUrl: e.SEAL_TSA_URL,
  };
}

function isEd25519(load: () => { asymmetricKeyType?: string }): boolean {
  try {
    return load().asymmetricKeyType === 'ed25519';
  } catch {
    return false;
  }
}

function toConfig(e: Env, instances: InstanceConfig[], custody: CustodyConfig): Config {
  const hosts =
    e.DOWNLOAD_HOSTS?.split(',')
      .map((h) => h.trim())
      .filter(Boolean) ?? DEFAULT_DOWNLOAD_HOSTS;
  // An instance's own host is trusted on its own port only, not on every port it has.
  const instanceHosts = instances.flatMap((i) =>
    [i.apiUrl, i.mediaUrl].filter((u): u is string => !!u).map((u) => hostWithPort(new URL(u))),
  );
  return {
    redisUrl: e.REDIS_URL,
    redisCluster: e.REDIS_CLUSTER,
    queuePrefix: e.QUEUE_PREFIX,
    port: e.PORT,
    metricsPort: e.METRICS_PORT,
    pollerMetricsPort: e.POLLER_METRICS_PORT,
    instances,
    webhookToken: e.WEBHOOK_TOKEN,
    webhookUrl: e.WEBHOOK_URL,
    allowUnauthenticatedWebhooks: e.ALLOW_UNAUTHENTICATED_WEBHOOKS,
    defaultDownloadRps: e.DOWNLOAD_RPS,
    workerConcurrency: e.WORKER_CONCURRENCY,
    retentionDays: e.RETENTION_DAYS,
    retry: { baseDelayMs: e.RETRY_BASE_DELAY_MS, maxDelayMs: e.RETRY_MAX_DELAY_MS },
    s3: e.S3_BUCKET
      ? {
          bucket: e.S3_BUCKET,
          prefix: e.S3_PREFIX,
          endpoint: e.S3_ENDPOINT,
          region: e.S3_REGION,
          forcePathStyle: e.S3_FORCE_PATH_STYLE ?? e.S3_ENDPOINT !== undefined,
          objectLock:
            e.S3_OBJECT_LOCK_MODE && e.S3_OBJECT_LOCK_DAYS
              ? { mode: e.S3_OBJECT_LOCK_MODE, days: e.S3_OBJECT_LOCK_DAYS }
              : undefined,
          sse: e.S3_SSE ? { type: e.S3_SSE, kmsKeyId: e.S3_SSE_KMS_KEY_ID } : undefined,
          conditionalWrites:
            e.S3_CONDITIONAL_WRITES === 'auto'
              ? 'auto'
              : e.S3_CONDITIONAL_WRITES === 'true'
                ? 'on'
                : 'off',
          holdRefreshMs: e.HOLD_REFRESH_SECONDS * 1000,
        }
      : undefined,
    downloadHosts: [...new Set([...hosts, ...instanceHosts])],
    quarantineMax: e.QUARANTINE_MAX,
    quarantineMaxBytes: e.QUARANTINE_MAX_BYTES,
    backfill: {
      intervalMinutes: e.BACKFILL_INTERVAL_MINUTES,
      windowMinutes: e.BACKFILL_WINDOW_MINUTES,
    },
    statuses: {
      intervalMinutes: e.STATUSES_INTERVAL_MINUTES,
      windowMinutes: e.STATUSES_WINDOW_MINUTES,
    },
    instanceCheckIntervalMinutes: e.INSTANCE_CHECK_INTERVAL_MINUTES,
    admin:
      e.ADMIN_USER && e.ADMIN_PASSWORD
        ? { user: e.ADMIN_USER, password: e.ADMIN_PASSWORD, readOnly: e.ADMIN_READ_ONLY }
        : undefined,
    review:
      e.REVIEW_USER && e.REVIEW_PASSWORD
        ? { user: e.REVIEW_USER, password: e.REVIEW_PASSWORD }
        : undefined,
    logLevel: e.LOG_LEVEL,
    webhookBodyLimitBytes: e.WEBHOOK_BODY_LIMIT_BYTES,
    http: {
      requestTimeoutMs: e.HTTP_REQUEST_TIMEOUT_MS,
      headersTimeoutMs: e.HTTP_HEADERS_TIMEOUT_MS,
      maxConnections: e.HTTP_MAX_CONNECTIONS,
    },
    shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS,
    lockDurationMs: e.WORKER_LOCK_DURATION_MS,
    otelEndpoint: e.OTEL_EXPORTER_OTLP_ENDPOINT,
    custody,
  };
}

/** `host:port` with the scheme's port filled in: a DOWNLOAD_HOSTS entry for that port only. */
function hostWithPort(url: URL): string {
  return `${url.hostname}:${url.port || (url.protocol === 'https:' ? '443' : '80')}`;
}

/** Every secret in the configuration, for the log scrubber. */
export function configSecrets(config: Config): string[] {
  return [
    config.webhookToken,
    config.admin?.password,
    config.review?.password,
    config.custody.signingKey,
    ...config.instances.flatMap((i) => [i.apiTokenInstance, i.webhookToken]),
  ].filter((s): s is string => typeof s === 'string' && s.length > 0);
}
