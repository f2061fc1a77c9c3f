// Fuzzing the webhook route of the real receiver app (in-process, real Redis from the int
// project's globalSetup, own QUEUE_PREFIX): thousands of generated and mutated Green-API bodies
// and headers. Properties: never a 5xx while Redis is up, never a crash (the app still answers
// afterwards), nothing stored for an unauthenticated request, and every well-formed file
// webhook with its instance's token stored as exactly its job.
// FUZZ_RUNS raises the number of requests per property (default 300).
import { randomUUID } from 'node:crypto';
import { request, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import fc from 'fast-check';
import {
  archiveJobId,
  redisKeys,
  createLogger,
  loadConfig,
} from '../../packages/core/src/index.js';
import {
  createApp,
  createReceiverServices,
  listen,
  type ReceiverServices,
} from '../../apps/receiver/src/index.js';
import { fileWebhook, outgoingMessageStatusWebhook } from '../../packages/testkit/src/index.js';

const RUNS = Number(process.env.FUZZ_RUNS ?? 300);
const TIMEOUT_MS = Math.max(90_000, RUNS * 150);
const BODY_LIMIT = 16 * 1024;

const TOKENS = {
  a: 'fuzz-token-instance-a-1f9e',
  shared: 'fuzz-token-shared-77b3',
  global: 'fuzz-token-global-c4d1',
};
const A = '1101000001'; // own token
const B = '1101000002'; // shares a token with M
const M = '3100000000'; // MAX, shared token
const INSTANCES = [
  {
    idInstance: A,
    apiTokenInstance: 'api-a',
    apiUrl: 'https://1101.api.green-api.com',
    webhookToken: TOKENS.a,
  },
  {
    idInstance: B,
    apiTokenInstance: 'api-b',
    apiUrl: 'https://1101.api.green-api.com',
    webhookToken: TOKENS.shared,
  },
  {
    idInstance: M,
    apiTokenInstance: 'api-m',
    apiUrl: 'https://3100.api.green-api.com',
    webhookToken: TOKENS.shared,
    kind: 'max',
  },
];

let server: Server;
let port = 0;
let services: ReceiverServices;
const prefix = `fuzz-receiver-${randomUUID()}`;
const keys = redisKeys(prefix);

beforeAll(async () => {
  const config = loadConfig(
    {
      REDIS_URL: inject('redisUrl'),
      QUEUE_PREFIX: prefix,
      GREEN_API_INSTANCES: JSON.stringify(INSTANCES),
      WEBHOOK_TOKEN: TOKENS.global,
      WEBHOOK_BODY_LIMIT_BYTES: String(BODY_LIMIT),
      QUARANTINE_MAX: '1000000',
    },
    'receiver',
  );
  const logger = createLogger({ level: 'silent', name: 'fuzz' });
  services = createReceiverServices(config, logger);
  const app = createApp({ config, logger, ...services });
  const deadline = Date.now() + 10_000;
  while ((await services.redis.ping().catch(() => '')) !== 'PONG') {
    if (Date.now() > deadline) throw new Error('Redis not reachable');
    await new Promise((r) => setTimeout(r, 20));
  }
  server = await listen(app, 0, '127.0.0.1');
  const address = server.address();
  port = typeof address === 'object' && address ? address.port : 0;
});

afterAll(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve));
  if (services) {
    await services.queue.obliterate({ force: true }).catch(() => undefined);
    const left = await services.redis.keys(`${prefix}:*`);
    if (left.length > 0) await services.redis.del(...left);
    await services.close();
  }
});

type Sent = { status: number };

/** Raw HTTP, so headers and bytes are exactly what the case says (fetch would normalise them). */
function post(
  path: string,
  body: Buffer,
  headers: Record<string, string>,
  chunked: boolean,
): Promise<Sent> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        method: 'POST',
        path,
        headers: chunked ? headers : { ...headers, 'content-length': String(body.length) },
      },
      (res) => {
        res.resume();
        res.once('end', () => resolve({ status: res.statusCode ?? 0 }));
        res.once('error', reject);
      },
    );
    // The server may answer 401/413 and close before reading the body: that is not an error.
    req.once('error', (err: NodeJS.ErrnoException) =>
      err.code === 'ECONNRESET' || err.code === 'EPIPE' ? resolve({ status: -1 }) : reject(err),
    );
    req.end(body);
  });
}

/** Jobs and quarantined bodies under this file's prefix. */
async function stored(): Promise<number> {
  const [jobs, quarantined] = await Promise.all([
    services.queue.count(),
    services.quarantine.size(),
  ]);
  return jobs + quarantined;
}

// ---- generators ----------------------------------------------------------------------------

const text = fc.string({ unit: 'binary', maxLength: 40 });
const printable = fc
  .string({ unit: 'binary-ascii', maxLength: 60 })
  .map((s) => s.replace(/[^\x20-\x7e]/g, ''));
const idInstanceValue = fc.oneof(
  fc.constantFrom(Number(A), Number(B), Number(M), A, B, M),
  fc.integer({ min: 0, max: 9_999_999_999 }),
  fc.jsonValue(),
);

const fileBody = fc
  .record({
    typeWebhook: fc.constantFrom(
      'incomingMessageReceived',
      'outgoingMessageReceived',
      'outgoingAPIMessageReceived',
    ),
    idInstance: fc.constantFrom(A, B, M),
    chatId: fc.oneof(
      text,
      fc.constantFrom('79001234567@c.us', '-10000000000000', '120363000000000000@g.us'),
    ),
    idMessage: fc.oneof(
      text.filter((s) => s.length > 0),
      fc.stringMatching(/^[0-9A-F]{20}$/),
    ),
    timestamp: fc.integer({ min: 0, max: 4_102_444_800 }),
    typeMessage: fc.constantFrom(
      'imageMessage',
      'videoMessage',
      'documentMessage',
      'audioMessage',
      'stickerMessage',
    ),
    fileName: fc.option(text, { nil: undefined }),
    caption: fc.option(text, { nil: undefined }),
    downloadUrl: fc.oneof(fc.webUrl(), fc.constant('{{SWE002}}')),
    jpegThumbnail: fc.base64String({ maxLength: 400 }),
  })
  .map(
    (o) =>
      fileWebhook({
        ...o,
        kind: o.idInstance === M ? 'max' : 'whatsapp',
        ...(o.fileName === undefined ? {} : { fileName: o.fileName }),
        ...(o.caption === undefined ? {} : { caption: o.caption }),
      }) as unknown as Record<string, unknown>,
  );

const statusBody = fc
  .record({
    idMessage: text,
    chatId: text,
    status: fc.constantFrom('sent', 'delivered', 'read', 'failed') as fc.Arbitrary<'sent'>,
  })
  .map(
    (o) =>
      outgoingMessageStatusWebhook({
        kind: 'whatsapp',
        idInstance: A,
        timestamp: 1700000000,
        ...o,
      }) as unknown as Record<string, unknown>,
  );

/** Every path to a value inside a JSON object, for the mutators. */
function paths(value: unknown, at: string[] = []): string[][] {
  if (typeof value !== 'object' || value === null) return [at];
  const inner = Object.entries(value).flatMap(([k, v]) => paths(v, [...at, k]));
  return [at, ...inner];
}

function setAt(
  root: Record<string, unknown>,
  path: string[],
  replace: (old: unknown) => unknown,
): unknown {
  if (path.length === 0) return replace(root);
  const copy: Record<string, unknown> = structuredClone(root);
  let node: Record<string, unknown> = copy;
  for (const key of path.slice(0, -1)) node = node[key] as Record<string, unknown>;
  const last = path.at(-1) as string;
  const next = replace(node[last]);
  if (next === undefined) delete node[last];
  else node[last] = next;
  return copy;
}

/** A structural mutation: drop a field, or put any JSON value (or a wrong idInstance) in its place. */
const mutated = fc
  .tuple(
    fc.oneof(fileBody, statusBody),
    fc.nat(),
    fc.oneof(fc.constant(undefined), fc.jsonValue(), idInstanceValue),
  )
  .map(([body, pick, value]) => {
    const all = paths(body);
    return setAt(body, all[pick % all.length] as string[], () => value);
  });

/** Counterexamples print as a short preview, not as 16 KB of byte values. */
function preview(bytes: Buffer): Buffer {
  return Object.assign(bytes, {
    [fc.toStringMethod]: () =>
      `Buffer(${bytes.length}) ${JSON.stringify(bytes.subarray(0, 400).toString('utf8'))}`,
  });
}

/** Text-level damage: truncation, a stray byte, raw garbage, an oversized body. */
const rawBodyBytes = fc.oneof(
  { weight: 3, arbitrary: fileBody.map((b) => Buffer.from(JSON.stringify(b))) },
  { weight: 4, arbitrary: mutated.map((b) => Buffer.from(JSON.stringify(b) ?? 'null')) },
  {
    weight: 2,
    arbitrary: fc
      .tuple(fileBody, fc.nat(), fc.uint8Array({ maxLength: 4 }))
      .map(([b, at, junk]) => {
        const raw = Buffer.from(JSON.stringify(b));
        const cut = at % (raw.length + 1);
        return Buffer.concat([
          raw.subarray(0, cut),
          Buffer.from(junk),
          raw.subarray(cut + junk.length),
        ]);
      }),
  },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 300 }).map((u) => Buffer.from(u)) },
  { weight: 1, arbitrary: fc.jsonValue().map((v) => Buffer.from(JSON.stringify(v) ?? '')) },
  {
    weight: 1,
    arbitrary: fileBody.map((b) =>
      Buffer.from(JSON.stringify({ ...b, padding: 'x'.repeat(BODY_LIMIT) })),
    ),
  },
);
const bodyBytes = rawBodyBytes.map(preview);

type Auth = { kind: 'none' | 'garbage' | 'a' | 'shared' | 'global'; header?: string };
const auth: fc.Arbitrary<Auth> = fc.oneof(
  fc.constant<Auth>({ kind: 'none' }),
  printable
    .filter((s) => !Object.values(TOKENS).some((t) => s.includes(t)))
    .map((s): Auth => ({ kind: 'garbage', header: s })),
  fc
    .constantFrom(['a', TOKENS.a], ['shared', TOKENS.shared], ['global', TOKENS.global])
    .chain(([kind, token]) =>
      fc
        .constantFrom(`Bearer ${token}`, token, `bearer   ${token}  `, `BEARER ${token}`)
        .map((header): Auth => ({ kind: kind as Auth['kind'], header })),
    ),
);

const contentType = fc.constantFrom(
  'application/json',
  'application/json; charset=utf-8',
  'text/plain',
  'application/x-www-form-urlencoded',
  undefined,
);

function peekInstance(body: Buffer): string | undefined {
  try {
    const id = (JSON.parse(body.toString('utf8')) as { instanceData?: { idInstance?: unknown } })
      ?.instanceData?.idInstance;
    return typeof id === 'number' || typeof id === 'string' ? String(id) : undefined;
  } catch {
    return undefined;
  }
}

// ---- properties ----------------------------------------------------------------------------

describe('receiver under fuzzed webhooks (Redis up)', () => {
  it(
    'never answers 5xx, and stores nothing for a request that is not authenticated for its instance',
    async () => {
      await fc.assert(
        fc.asyncProperty(
          bodyBytes,
          auth,
          contentType,
          fc.boolean(),
          async (body, a, type, chunked) => {
            const headers: Record<string, string> = {};
            if (type) headers['content-type'] = type;
            if (a.header !== undefined) headers.authorization = a.header;
            const instance = peekInstance(body);
            // Unauthenticated: no token, an unknown one, or instance A's token on another
            // configured instance's body (tokens are per instance).
            const unauthenticated =
              a.kind === 'none' ||
              a.kind === 'garbage' ||
              (a.kind === 'a' && (instance === B || instance === M));
            const before = unauthenticated ? await stored() : 0;
            const { status } = await post('/webhooks/green-api', body, headers, chunked);
            expect(status === -1 || (status >= 200 && status < 500)).toBe(true);
            expect([200, 400, 401, 413, -1]).toContain(status);
            if (unauthenticated) {
              // 413: too large is decided before the body is parsed (nothing is stored either);
              // -1: the connection was closed while the client still wrote the body (an early 401).
              expect([401, 413, -1]).toContain(status);
              expect(await stored()).toBe(before);
            }
          },
        ),
        { numRuns: RUNS },
      );
    },
    TIMEOUT_MS,
  );

  it(
    'stores every well-formed file webhook sent with its instance\u2019s token as exactly its job',
    async () => {
      await fc.assert(
        fc.asyncProperty(fileBody, fc.boolean(), async (body, raw) => {
          const hook = body as {
            instanceData: { idInstance: number };
            idMessage: string;
            senderData: { chatId: string };
          };
          const id = String(hook.instanceData.idInstance);
          const token = id === A ? TOKENS.a : TOKENS.shared;
          const { status } = await post(
            '/webhooks/green-api',
            Buffer.from(JSON.stringify(body)),
            { 'content-type': 'application/json', authorization: raw ? token : `Bearer ${token}` },
            false,
          );
          expect(status).toBe(200);
          const jobId = archiveJobId(id, hook.senderData.chatId, hook.idMessage);
          const exists = await services.redis.exists(keys.job(jobId), keys.done(jobId));
          // A chatId or idMessage the schema refuses (e.g. empty) is quarantined, not lost.
          if (exists === 0) expect(await services.quarantine.size()).toBeGreaterThan(0);
        }),
        { numRuns: RUNS },
      );
    },
    TIMEOUT_MS,
  );

  it('is still up and ready after the fuzzing', async () => {
    const health = await fetch(`http://127.0.0.1:${port}/healthz`);
    expect(health.status).toBe(200);
    const ready = await fetch(`http://127.0.0.1:${port}/readyz`);
    expect(ready.status).toBe(200);
  });
});
