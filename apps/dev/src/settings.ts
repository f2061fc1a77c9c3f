import { isAbsolute, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { devSealKeyPath } from './seal-key.js';

/** The repository root, whatever the working directory. */
export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/**
 * Demo identities. Not secrets: `dev` prints them so anyone can try the system, and they
 * only ever reach the local simulator.
 */
export const DEMO = {
  instances: [
    { idInstance: '1101000001', apiTokenInstance: 'demo-whatsapp-api-token', kind: 'whatsapp' },
    { idInstance: '3100000001', apiTokenInstance: 'demo-max-api-token', kind: 'max' },
  ],
  webhookToken: 'demo-webhook-token',
  admin: { user: 'admin', password: 'demo-password' },
  review: { user: 'officer', password: 'demo-review-password' },
  bucket: 'archive',
} as const;

/**
 * Environment variables of the archiver (README.md, Configuration) that `dev` takes from the shell. The
 * rest (instances, S3 endpoint, download hosts) point at the embedded services and are not
 * overridable here.
 */
const PASSED_THROUGH = [
  'REDIS_URL',
  'QUEUE_PREFIX',
  'PORT',
  'METRICS_PORT',
  'WEBHOOK_TOKEN',
  'ADMIN_USER',
  'ADMIN_PASSWORD',
  'REVIEW_USER',
  'REVIEW_PASSWORD',
  'LOG_LEVEL',
  'RETRY_BASE_DELAY_MS',
  'RETRY_MAX_DELAY_MS',
  'WORKER_CONCURRENCY',
  'RETENTION_DAYS',
  'DOWNLOAD_RPS',
  'SHUTDOWN_TIMEOUT_MS',
  'S3_BUCKET',
  'S3_PREFIX',
  'SEAL_INTERVAL_MINUTES',
  'SEAL_SIGNING_KEY',
  'SEAL_PUBLIC_KEY',
  'SEAL_TSA_URL',
] as const;

/** The dev-only ports: the embedded services that production does not have. */
export type DevPorts = { simulator: number; control: number; s3: number };

export type DevSettings = {
  dataDir: string;
  ports: DevPorts;
  /** Pretty one-line logs for a terminal, or pino's JSON (LOG_FORMAT=json). */
  logFormat: 'pretty' | 'json';
  /** The archiver's own environment, as the receiver and the worker would get it. */
  archiverEnv: Record<string, string>;
};

/** A problem the developer can fix; printed without a stack trace. */

export class DevError extends Error {
  override name = 'DevError';
}

export function loadDevSettings(env: Record<string, string | undefined>): DevSettings {
  const ports: DevPorts = {
    simulator: portFrom(env, 'SIMULATOR_PORT', 3100),
    control: portFrom(env, 'SIMULATOR_CONTROL_PORT', 3101),
    s3: portFrom(env, 'S3RVER_PORT', 4568),
  };
  const dataDir = dataDirFrom(env.ARCHIVER_DATA_DIR);
  const simulatorUrl = `http://127.0.0.1:${ports.simulator}`;
  const instances = DEMO.instances.map((i) => ({
    ...i,
    apiUrl: simulatorUrl,
    mediaUrl: simulatorUrl,
  }));
  const defaults: Record<string, string> = {
    GREEN_API_INSTANCES: JSON.stringify(instances),
    WEBHOOK_TOKEN: DEMO.webhookToken,
    ADMIN_USER: DEMO.admin.user,
    ADMIN_PASSWORD: DEMO.admin.password,
    REVIEW_USER: DEMO.review.user,
    REVIEW_PASSWORD: DEMO.review.password,
    S3_BUCKET: DEMO.bucket,
    S3_ENDPOINT: `http://127.0.0.1:${ports.s3}`,
    S3_FORCE_PATH_STYLE: 'true',
    // Short retries so a transient failure in the demo settles in seconds, not minutes.
    RETRY_BASE_DELAY_MS: '1000',
    RETRY_MAX_DELAY_MS: '30000',
    SHUTDOWN_TIMEOUT_MS: '10000',
    LOG_LEVEL: 'info',
    // dev makes this key on first start (seal-key.ts); seals every few minutes so the
    // demo shows them.
    SEAL_SIGNING_KEY: `@${devSealKeyPath(dataDir)}`,
    SEAL_INTERVAL_MINUTES: '2',
  };
  const passed = Object.fromEntries(
    PASSED_THROUGH.flatMap((name) => (env[name] ? [[name, env[name]] as const] : [])),
  );
  return {
    dataDir,
    ports,
    logFormat: env.LOG_FORMAT === 'json' ? 'json' : 'pretty',
    archiverEnv: { ...defaults, ...passed },
  };
}

function portFrom(env: Record<string, string | undefined>, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new DevError(`${name}: must be a port number from 1 to 65535 (got "${raw}")`);
  }
  return port;
}

function dataDirFrom(raw: string | undefined): string {
  if (!raw) return join(REPO_ROOT, '.data');
  return isAbsolute(raw) ? raw : resolve(raw);
}

/** A path relative to the working directory when it lies inside it, else absolute. */
export function shortPath(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel && !rel.startsWith('..') ? rel : path;
}
