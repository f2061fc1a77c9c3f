import { createHash, randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import { DeleteObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { UnrecoverableError, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { expect, inject } from 'vitest';
import { classifyWebhook, type InstanceKind } from '@archiver/greenapi';
import {
  ARCHIVE_QUEUE,
  archiveJobRequest,
  createArchiveQueue,
  createRecordQueue,
  forEachLimit,
  loadConfig,
  objectKeys,
  jobFromWebhook,
  receivedOf,
  recordJobFromEvent,
  recordJobFromMessage,
  recordKey,
  readKeptMessage,
  type ArchiveJob,
  type Sidecar,
} from '@archiver/core';
// The testkit is not a dependency of this package (yet): reached by path. Importing it also
// brings the typing of inject('redisUrl') / inject('s3').
import { s3ClientConfig } from '../../../packages/testkit/src/index.js';
import type { CliDeps } from '../src/deps.js';
import type { DepsFactory } from '../src/cli.js';
import { listKeys } from '../src/sidecars.js';

export const WA = '1101000001';
export const MAX = '3100000002';

export type Captured = { out: Writable; err: Writable; text: { out: string; err: string } };

export function captureIo(): Captured {
  const text = { out: '', err: '' };
  const sink = (key: 'out' | 'err') =>
    new Writable({
      write(chunk: Buffer, _enc, cb) {
        text[key] += chunk.toString();
        cb();
      },
    });
  return { out: sink('out'), err: sink('err'), text };
}

export type TestContext = {
  deps: CliDeps;
  io: Captured;
  queuePrefix: string;
  s3Prefix: string;
  bucket: string;
  /** Runs with these deps; the test closes them itself. */
  factory: DepsFactory;
  /** A fresh capture for the next command's output. */
  resetIo(): Captured;
  close(): Promise<void>;
};

/**
 * A unique QUEUE_PREFIX and S3_PREFIX on the shared Redis and S3 (per test, so tests do not
 * see each other's jobs and objects), the CLI configuration built from env as in production,
 * and captured output streams.
 */
export function createContext(name: string, extraEnv: Record<string, string> = {}): TestContext {
  const id = randomUUID().slice(0, 8);
  const s3conn = inject('s3');
  const queuePrefix = `cli-${name}-${id}`;
  const s3Prefix = `cli-${name}-${id}/`;
  const config = loadConfig(
    {
      REDIS_URL: inject('redisUrl'),
      QUEUE_PREFIX: queuePrefix,
      S3_BUCKET: s3conn.bucket,
      S3_PREFIX: s3Prefix,
      S3_ENDPOINT: s3conn.endpoint,
      GREEN_API_INSTANCES: JSON.stringify([
        {
          idInstance: WA,
          apiTokenInstance: 'wa-token-secret',
          apiUrl: 'https://1101.api.green-api.com',
          kind: 'whatsapp',
        },
        {
          idInstance: MAX,
          apiTokenInstance: 'max-token-secret',
          apiUrl: 'https://3100.api.green-api.com',
          kind: 'max',
          retentionDays: 10,
        },
      ]),
      ...extraEnv,
    },
    'cli',
  );
  const redis = new Redis(inject('redisUrl'), { maxRetriesPerRequest: null });
  // S3_ENDPOINT in extraEnv (a recording proxy) is where this client goes too.
  const s3 = new S3Client(
    s3ClientConfig({ ...s3conn, endpoint: extraEnv.S3_ENDPOINT ?? s3conn.endpoint }),
  );
  let io = captureIo();
  const deps: CliDeps = {
    config,
    redis,
    s3,
    queue: createArchiveQueue(redis, queuePrefix),
    recordQueue: createRecordQueue(redis, queuePrefix),
    out: io.out,
    err: io.err,
  };
  const ctx: TestContext = {
    deps,
    get io() {
      return io;
    },
    queuePrefix,
    s3Prefix,
    bucket: s3conn.bucket,
    factory: async (_config, runIo) => ({
      deps: { ...deps, ...runIo },
      close: async () => undefined,
    }),
    resetIo() {
      io = captureIo();
      deps.out = io.out;
      deps.err = io.err;
      return io;
    },
    async close() {
      await deps.queue.close();
      await deps.recordQueue.close();
      for (const key of await scanKeys(redis, `${queuePrefix}:*`)) await redis.del(key);
      await forEachLimit(listKeys(s3, s3conn.bucket, s3Prefix), 16, async (key) => {
        await s3.send(new DeleteObjectCommand({ Bucket: s3conn.bucket, Key: key }));
      });
      await redis.quit();
      s3.destroy();
    },
  };
  return ctx;
}

/**
 * An environment that passes loadConfig(…, 'cli'), for runCli; the test's DepsFactory then
 * hands it the test's own connections and configuration.
 */
export function envOf(ctx: TestContext): Record<string, string> {
  return {
    S3_BUCKET: ctx.bucket,
    S3_PREFIX: ctx.s3Prefix,
    QUEUE_PREFIX: ctx.queuePrefix,
    GREEN_API_ID_INSTANCE: WA,
    GREEN_API_TOKEN: 'wa-token-secret',
  };
}

async function scanKeys(redis: Redis, pattern: string): Promise<string[]> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    cursor = next;
    keys.push(...batch);
  } while (cursor !== '0');
  return keys;
}

export type MessageRef = {
  idInstance: string;
  kind: 'whatsapp' | 'max';
  chatId: string;
  idMessage: string;
  /** UNIX seconds. */
  timestamp: number;
  fileName?: string;
};

export function seconds(iso: string): number {
  return Date.parse(iso) / 1000;
}

/** The job the receiver would store for a document webhook about `m`. */
export function jobData(m: MessageRef): ArchiveJob {
  const fileName = m.fileName ?? `${m.idMessage}.pdf`;
  const body = {
    typeWebhook: 'incomingMessageReceived',
    instanceData: {
      idInstance: Number(m.idInstance),
      wid: '79876543210@c.us',
      typeInstance: m.kind === 'max' ? 'v3' : 'whatsapp',
    },
    timestamp: m.timestamp,
    idMessage: m.idMessage,
    senderData: { chatId: m.chatId, sender: m.chatId },
    messageData: {
      typeMessage: 'documentMessage',
      fileMessageData: {
        downloadUrl: `https://storage.example/${m.idMessage}`,
        fileName,
        mimeType: 'application/pdf',
      },
    },
  };
  const result = classifyWebhook(body);
  if (result.kind !== 'file') throw new Error(`not a file webhook: ${JSON.stringify(result)}`);
  return jobFromWebhook(body, result.webhook, m.kind, 'webhook');
}

function baseSidecar(m: MessageRef) {
  return {
    idInstance: m.idInstance,
    chatId: m.chatId,
    idMessage: m.idMessage,
    kind: m.kind,
    typeWebhook: 'incomingMessageReceived',
    typeMessage: 'documentMessage',
    timestamp: m.timestamp,
    fileName: m.fileName ?? `${m.idMessage}.pdf`,
    attempts: 1,
    source: 'webhook',
    message: { idMessage: m.idMessage },
  };
}

/** An archived file and its sidecar, as the worker leaves them. */
export async function putArchived(ctx: TestContext, m: MessageRef, bytes: Buffer) {
  const keys = objectKeys({
    prefix: ctx.s3Prefix,
    ...m,
    fileName: m.fileName ?? `${m.idMessage}.pdf`,
  });
  const sidecar: Sidecar = {
    status: 'archived',
    ...baseSidecar(m),
    key: keys.fileKey,
    sha256: createHash('sha256').update(bytes).digest('hex'),
    size: bytes.length,
    // The type the worker stores: the transcript shows images inline by it.
    contentType: /\.jpe?g$/i.test(keys.fileKey) ? 'image/jpeg' : 'application/pdf',
    archivedAt: new Date().toISOString(),
  };
  await ctx.deps.s3.send(
    new PutObjectCommand({ Bucket: ctx.bucket, Key: keys.fileKey, Body: bytes }),
  );
  await putJson(ctx, keys.sidecarKey, sidecar);
  return keys;
}

/** A message without a file (a text, an edit …): its record, `status: recorded`. */
export async function putRecorded(ctx: TestContext, m: MessageRef, typeMessage: string) {
  const keys = objectKeys({ prefix: ctx.s3Prefix, ...m });
  const record = {
    ...baseSidecar(m),
    status: 'recorded',
    typeMessage,
    recordedAt: new Date().toISOString(),
  };
  await putJson(ctx, keys.sidecarKey, record);
  return keys;
}

/** A failure record: a sidecar naming no object. */
export async function putFailure(
  ctx: TestContext,
  m: MessageRef,
  status: 'permanent_failure' | 'expired',
  code: string,
) {
  const keys = objectKeys({
    prefix: ctx.s3Prefix,
    ...m,
    fileName: m.fileName ?? `${m.idMessage}.pdf`,
  });
  const sidecar: Sidecar = {
    status,
    ...baseSidecar(m),
    reason: { code, error: `${code} happened` },
    intendedKey: keys.fileKey,
    endedAt: new Date().toISOString(),
  };
  await putJson(ctx, keys.sidecarKey, sidecar);
  return keys;
}

export async function putJson(ctx: TestContext, key: string, value: unknown) {
  await putText(ctx, key, JSON.stringify(value));
}

export async function putText(ctx: TestContext, key: string, text: string) {
  await ctx.deps.s3.send(
    new PutObjectCommand({
      Bucket: ctx.bucket,
      Key: key,
      Body: text,
      ContentType: 'application/json',
    }),
  );
}

export type FailedSeed = MessageRef & { failedReason: string };

/**
 * Failed jobs made the real way: added as the receiver adds them, then failed by a BullMQ
 * worker whose processor throws UnrecoverableError with the worker's failedReason format.
 * Returns the job ids in seed order.
 */
export async function seedFailedJobs(ctx: TestContext, seeds: FailedSeed[]): Promise<string[]> {
  const reasons = new Map<string, string>();
  const ids: string[] = [];
  for (const seed of seeds) {
    const request = archiveJobRequest(jobData(seed), 15);
    reasons.set(request.opts.jobId, seed.failedReason);
    ids.push(request.opts.jobId);
    await ctx.deps.queue.add(request.name, request.data, request.opts);
  }
  const connection = new Redis(inject('redisUrl'), { maxRetriesPerRequest: null });
  const worker = new Worker(
    ARCHIVE_QUEUE,
    async (job) => {
      throw new UnrecoverableError(
        reasons.get(job.id ?? '') ?? 'permanent_failure: invalid_job: unseeded',
      );
    },
    { connection, prefix: ctx.queuePrefix, concurrency: 8 },
  );
  await expect.poll(() => ctx.deps.queue.getFailedCount(), { timeout: 20_000 }).toBe(seeds.length);
  await worker.close();
  await connection.quit();
  return ids;
}

/** A minimal RFC 4180 parser, to prove the CSV parses (quotes, commas, CRLF). */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i += 1) {
    const c = text[i] as string;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i += 1;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\r' && text[i + 1] === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
      i += 1;
    } else field += c;
  }
  if (field !== '' || row.length > 0) rows.push([...row, field]);
  return rows;
}

/**
 * Records as the worker writes them (docs/conversation.md §2, §3), from the corpus' bodies,
 * of a WhatsApp instance unless `kind` says otherwise; `concurrency` PUTs at once.
 */
export async function putRecords(
  ctx: TestContext,
  bodies: unknown[],
  opts: { kind?: InstanceKind; concurrency?: number } = {},
) {
  const kind = opts.kind ?? 'whatsapp';
  await forEachLimit(bodies, opts.concurrency ?? 1, async (body) => {
    const text = JSON.stringify(body);
    const c = classifyWebhook(JSON.parse(text));
    const received = receivedOf(text, true);
    if (c.kind === 'message') {
      const d = recordJobFromMessage(c.webhook, JSON.parse(text), kind, 'webhook', received);
      await putJson(ctx, recordKey(ctx.s3Prefix, d), {
        status: 'recorded',
        idInstance: d.idInstance,
        chatId: d.chatId,
        idMessage: d.idMessage,
        kind: d.kind,
        typeWebhook: d.typeWebhook,
        typeMessage: d.typeMessage,
        timestamp: d.timestamp,
        stanzaId: d.stanzaId,
        attempts: 1,
        source: d.source,
        recordedAt: new Date().toISOString(),
        received,
        message: readKeptMessage(d.message),
      });
    } else if (c.kind === 'event') {
      const d = recordJobFromEvent(c.event, JSON.parse(text), c.chatId, kind, 'webhook', received);
      await putJson(ctx, recordKey(ctx.s3Prefix, d), {
        record: 'event',
        idInstance: d.idInstance,
        kind: d.kind,
        typeWebhook: d.typeWebhook,
        timestamp: d.timestamp,
        timestampFrom: d.timestampFrom,
        chatId: d.chatId,
        idMessage: d.idMessage,
        source: d.source,
        recordedAt: new Date().toISOString(),
        received,
        message: readKeptMessage(d.message),
      });
    } else {
      throw new Error(`corpus body is not a record: ${c.kind}`);
    }
  });
}
