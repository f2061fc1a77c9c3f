import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { createGreenApiClient } from '@archiver/greenapi';
import {
  BackfillUnknownInstanceError,
  carriesFile,
  createBackfill,
  scheduleBackfills,
  type BackfillDeps,
} from './backfill.js';
import type { InstanceConfig } from './instances.js';
import { archiveJobId, type ArchiveJob } from './job.js';
import type { JobWriter } from './job-writer.js';
import { RateBudgetExhaustedError } from './limited-call.js';
import { createMetrics } from './metrics.js';
import type { RateLimiter } from './rate-limit.js';
import type { RecordedIndex } from './recorded-index.js';
import { recordJobId } from './record-job.js';
import type { RecordJobWriter } from './record-job-writer.js';
import type { RecordJobData } from './job-catalog.js';

const logger = pino({ level: 'silent' });
const nowS = () => Math.floor(Date.now() / 1000);

const instance: InstanceConfig = {
  idInstance: '1101000001',
  apiTokenInstance: 'token-abcdef',
  apiUrl: 'https://api.example.test',
  kind: 'max',
  delivery: 'webhook',
};

function file(idMessage: string, extra: Record<string, unknown> = {}) {
  return {
    type: 'incoming',
    idMessage,
    timestamp: nowS() - 60,
    typeMessage: 'imageMessage',
    chatId: '79001234567@c.us',
    downloadUrl: `https://files.example.test/${idMessage}.jpg`,
    fileName: `${idMessage}.jpg`,
    mimeType: 'image/jpeg',
    jpegThumbnail: 'AAAA',
    ...extra,
  };
}

type Route = (url: URL, init: RequestInit | undefined) => Response;

/** A Green-API stand-in at the fetch level: the real client parses what it answers. */
function fakeGreenApi(routes: Record<string, Route>) {
  const calls: { method: string; url: URL; body?: unknown }[] = [];
  const fetchImpl: typeof fetch = (input, init) => {
    const url = new URL(String(input));
    const method = /\/waInstance\d+\/([^/]+)/.exec(url.pathname)?.[1] ?? '';
    calls.push({
      method,
      url,
      body: init?.body ? (JSON.parse(String(init.body)) as unknown) : undefined,
    });
    const route = routes[method];
    return Promise.resolve(route ? route(url, init) : new Response('Not Found', { status: 404 }));
  };
  return {
    calls,
    clientFor: (i: InstanceConfig) =>
      createGreenApiClient({ ...i, kind: i.kind ?? 'whatsapp' }, { fetch: fetchImpl }),
  };
}

const json = (value: unknown) => () => Response.json(value);

function fakeWriter(known: string[] = []) {
  const ids = new Set(known);
  const written: ArchiveJob[] = [];
  const writer: JobWriter = {
    write(data) {
      const jobId = archiveJobId(data.idInstance, data.chatId, data.idMessage);
      if (ids.has(jobId)) return Promise.resolve({ outcome: 'duplicate', jobId });
      ids.add(jobId);
      written.push(data);
      return Promise.resolve({ outcome: 'accepted', jobId });
    },
  };
  return { writer, written };
}

function fakeLimiter(opts: { go?: boolean } = {}) {
  const acquired: { method: string; rps: number }[] = [];
  const penalized: { method: string; retryAfterMs?: number }[] = [];
  const limiter: RateLimiter = {
    acquire(_id, method, rps) {
      acquired.push({ method, rps });
      return Promise.resolve({
        go: opts.go ?? true,
        waitMs: opts.go === false ? 600_000 : 0,
        slotAt: 0,
      });
    },
    admitted: (_id, _method, _rps, send) => send(),
    penalize(_id, method, retryAfterMs) {
      penalized.push({ method, retryAfterMs });
      return Promise.resolve(0);
    },
  };
  return { limiter, acquired, penalized };
}

/** Record jobs written, and an index that knows the ids given. */
function fakeRecords(known: string[] = []) {
  const written: RecordJobData[] = [];
  const records: RecordJobWriter = {
    write(data) {
      written.push(data);
      return Promise.resolve({ outcome: 'accepted', jobId: recordJobId(data) });
    },
  };
  const recorded = {
    keepMs: 1,
    add: () => Promise.resolve(),
    known: (_id: string, ids: string[]) => Promise.resolve(ids.map((id) => known.includes(id))),
  } satisfies RecordedIndex;
  return { records, recorded, written };
}

function deps(overrides: Partial<BackfillDeps> & Pick<BackfillDeps, 'clientFor'>): BackfillDeps {
  return {
    writer: fakeWriter().writer,
    ...fakeRecords(),
    limiter: fakeLimiter().limiter,
    instances: new Map([[instance.idInstance, instance]]),
    retentionDays: 15,
    logger,
    ...overrides,
  };
}

describe('createBackfill: messages without a file', () => {
  it('queues a record job for each missed text, edit and deletion, once', async () => {
    const text = (id: string, extra: Record<string, unknown> = {}) => ({
      ...file(id),
      typeMessage: 'textMessage',
      textMessage: `text ${id}`,
      downloadUrl: undefined,
      fileName: undefined,
      mimeType: undefined,
      ...extra,
    });
    const items = [
      text('T1'),
      text('T2'),
      text('E1', {
        typeMessage: 'editedMessage',
        editedMessageData: { textMessage: 'x', stanzaId: 'T1' },
      }),
      text('D1', { typeMessage: 'deletedMessage', deletedMessageData: { stanzaId: 'T2' } }),
      file('F1'),
    ];
    const api = fakeGreenApi({
      lastIncomingMessages: json(items),
      // Listed again by the other journal: still once.
      lastOutgoingMessages: json([text('T1')]),
    });
    const recordId = (id: string) =>
      recordJobId({
        record: 'message',
        idInstance: instance.idInstance,
        chatId: '79001234567@c.us',
        idMessage: id,
      } as RecordJobData);
    const { records, recorded, written } = fakeRecords([recordId('T2')]);
    const summary = await createBackfill(deps({ clientFor: api.clientFor, records, recorded })).run(
      { idInstance: instance.idInstance },
    );
    expect(written.map((w) => [w.idMessage, w.typeMessage, w.stanzaId, w.source])).toEqual([
      ['T1', 'textMessage', undefined, 'journal'],
      ['E1', 'editedMessage', 'T1', 'journal'],
      ['D1', 'deletedMessage', 'T2', 'journal'],
    ]);
    expect(summary).toMatchObject({ messagesFound: 4, messagesEnqueued: 3, found: 1, enqueued: 1 });
  });
});

describe('createBackfill: journal mode', () => {
  it('enqueues the files the writer does not know, counts the rest, and skips expired ones', async () => {
    const api = fakeGreenApi({
      lastIncomingMessages: json([
        file('A1'),
        file('A2'),
        { ...file('T1'), typeMessage: 'textMessage', downloadUrl: undefined, fileName: undefined },
        file('OLD', { timestamp: nowS() - 16 * 86_400 }),
      ]),
      lastOutgoingMessages: json([file('B1', { type: 'outgoing', sendByApi: true })]),
    });
    const { writer, written } = fakeWriter([
      archiveJobId(instance.idInstance, '79001234567@c.us', 'A2'),
    ]);
    const { limiter, acquired } = fakeLimiter();
    const metrics = createMetrics();
    const backfill = createBackfill(
      deps({ clientFor: api.clientFor, writer, limiter, metrics, windowMinutes: 90 }),
    );

    const summary = await backfill.run({ idInstance: instance.idInstance });

    expect(summary).toMatchObject({
      mode: 'journal',
      scanned: 5,
      found: 4,
      enqueued: 2,
      alreadyKnown: 1,
      skippedExpired: 1,
      rateLimited: 0,
    });
    expect(written.map((j) => j.idMessage).sort()).toEqual(['A1', 'B1']);
    expect(written.every((j) => j.source === 'journal' && j.kind === 'max')).toBe(true);
    expect(written.find((j) => j.idMessage === 'B1')?.typeWebhook).toBe('outgoingMessageReceived');
    // Thumbnails never reach job data.
    expect(JSON.stringify(written)).not.toContain('jpegThumbnail');
    expect(api.calls.map((c) => [c.method, c.url.searchParams.get('minutes')])).toEqual([
      ['lastIncomingMessages', '90'],
      ['lastOutgoingMessages', '90'],
    ]);
    expect(acquired).toEqual([
      { method: 'lastIncomingMessages', rps: 1 },
      { method: 'lastOutgoingMessages', rps: 1 },
    ]);
    const found = await metrics.backfillFound.get();
    expect(found.values).toEqual([
      expect.objectContaining({ labels: { instance: instance.idInstance }, value: 2 }),
    ]);
  });

  it('uses the request minutes over the configured window', async () => {
    const api = fakeGreenApi({ lastIncomingMessages: json([]), lastOutgoingMessages: json([]) });
    await createBackfill(deps({ clientFor: api.clientFor, windowMinutes: 90 })).run({
      idInstance: instance.idInstance,
      minutes: 15,
    });
    expect(api.calls.map((c) => c.url.searchParams.get('minutes'))).toEqual(['15', '15']);
  });

  it('counts a message listed twice once', async () => {
    const api = fakeGreenApi({
      lastIncomingMessages: json([file('A1'), file('A1')]),
      lastOutgoingMessages: json([]),
    });
    const summary = await createBackfill(deps({ clientFor: api.clientFor })).run({
      idInstance: instance.idInstance,
    });
    expect(summary).toMatchObject({ found: 1, enqueued: 1, alreadyKnown: 0 });
  });

  it('waits out a 429 through the shared limiter and retries the same call', async () => {
    let answered = 0;
    const api = fakeGreenApi({
      lastIncomingMessages: () =>
        answered++ < 2
          ? new Response('Too Many Requests', { status: 429, headers: { 'retry-after': '1' } })
          : Response.json([file('A1')]),
      lastOutgoingMessages: json([]),
    });
    const { limiter, penalized, acquired } = fakeLimiter();
    const summary = await createBackfill(deps({ clientFor: api.clientFor, limiter })).run({
      idInstance: instance.idInstance,
    });
    expect(summary).toMatchObject({ enqueued: 1, rateLimited: 2 });
    expect(penalized).toEqual([
      { method: 'lastIncomingMessages', retryAfterMs: 1000 },
      { method: 'lastIncomingMessages', retryAfterMs: 1000 },
    ]);
    expect(acquired.filter((a) => a.method === 'lastIncomingMessages')).toHaveLength(3);
  });

  it('gives up with an error when the next slot is beyond the wait budget', async () => {
    const api = fakeGreenApi({ lastIncomingMessages: json([]), lastOutgoingMessages: json([]) });
    const run = createBackfill(
      deps({ clientFor: api.clientFor, limiter: fakeLimiter({ go: false }).limiter }),
    ).run({
      idInstance: instance.idInstance,
    });
    await expect(run).rejects.toBeInstanceOf(RateBudgetExhaustedError);
    expect(api.calls).toHaveLength(0);
  });

  it('fails the run on other errors', async () => {
    const api = fakeGreenApi({
      lastIncomingMessages: () => new Response('Bad Gateway', { status: 502 }),
    });
    await expect(
      createBackfill(deps({ clientFor: api.clientFor })).run({ idInstance: instance.idInstance }),
    ).rejects.toThrow(/HTTP 502/);
  });

  it('refuses an instance that is not configured', async () => {
    const api = fakeGreenApi({});
    await expect(
      createBackfill(deps({ clientFor: api.clientFor })).run({ idInstance: '42' }),
    ).rejects.toBeInstanceOf(BackfillUnknownInstanceError);
  });
});

describe('createBackfill: chat mode', () => {
  it('reads one chat history with its count and reports progress', async () => {
    const api = fakeGreenApi({
      getChatHistory: json([file('C1'), file('C2', { type: 'outgoing' })]),
    });
    const progress: unknown[] = [];
    const summary = await createBackfill(deps({ clientFor: api.clientFor })).run(
      { idInstance: instance.idInstance, chatId: '79001234567@c.us', count: 50 },
      { onProgress: (p) => progress.push(p) },
    );
    expect(summary).toMatchObject({ mode: 'chat', found: 2, enqueued: 2 });
    expect(api.calls).toEqual([
      expect.objectContaining({
        method: 'getChatHistory',
        body: { chatId: '79001234567@c.us', count: 50 },
      }),
    ]);
    expect(progress).toEqual([expect.objectContaining({ method: 'getChatHistory', enqueued: 2 })]);
  });
});

describe('carriesFile', () => {
  it('accepts documented file types and any entry with a link', () => {
    expect(carriesFile({ typeMessage: 'documentMessage' })).toBe(true);
    expect(
      carriesFile({ typeMessage: 'someNewFileMessage', downloadUrl: 'https://x.test/f' }),
    ).toBe(true);
    expect(carriesFile({ typeMessage: 'textMessage', downloadUrl: '' })).toBe(false);
    expect(carriesFile({ typeMessage: 'extendedTextMessage' })).toBe(false);
  });
});

describe('scheduleBackfills', () => {
  function fakeQueue(existing: string[] = []) {
    const schedulers = new Map<string, { every?: number; data?: unknown; name?: string }>(
      existing.map((key) => [key, {}]),
    );
    const offsets = new Map<string, number | undefined>();
    return {
      schedulers,
      offsets,
      upsertJobScheduler: (
        id: string,
        repeat: { every?: number; offset?: number },
        template?: { name?: string; data?: unknown },
      ) => {
        offsets.set(id, repeat.offset);
        schedulers.set(id, { every: repeat.every, data: template?.data, name: template?.name });
        return Promise.resolve({} as never);
      },
      removeJobScheduler: (id: string) => Promise.resolve(schedulers.delete(id)),
      getJobSchedulers: () =>
        Promise.resolve([...schedulers.keys()].map((key) => ({ key, name: 'reconcile' }))),
    };
  }

  it('upserts one scheduler per instance and removes those of instances gone', async () => {
    const queue = fakeQueue(['reconcile-999', 'someone-else']);
    const result = await scheduleBackfills(queue, [{ idInstance: '1' }, { idInstance: '2' }], {
      intervalMinutes: 30,
      windowMinutes: 1440,
    });
    expect(result).toEqual({
      scheduled: ['reconcile-1', 'reconcile-2'],
      removed: ['reconcile-999'],
      moved: [],
    });
    expect(queue.schedulers.get('reconcile-1')).toEqual({
      every: 1_800_000,
      name: 'reconcile',
      data: { idInstance: '1', minutes: 1440 },
    });
    expect([...queue.schedulers.keys()].sort()).toEqual([
      'reconcile-1',
      'reconcile-2',
      'someone-else',
    ]);
  });

  it('spreads the instances over the interval instead of starting them together', async () => {
    const queue = fakeQueue();
    const ids = Array.from({ length: 1000 }, (_, i) => ({ idInstance: String(1101000000 + i) }));
    await scheduleBackfills(queue, ids, { intervalMinutes: 30, windowMinutes: 1440 });
    const offsets = [...queue.offsets.values()].map((o) => o ?? 0);
    expect(Math.min(...offsets)).toBeGreaterThan(0);
    expect(Math.max(...offsets)).toBeLessThan(1_800_000);
    // Per minute of the interval: about 33 instances each, none crowded.
    const perMinute = new Map<number, number>();
    for (const o of offsets) {
      perMinute.set(Math.floor(o / 60_000), (perMinute.get(Math.floor(o / 60_000)) ?? 0) + 1);
    }
    expect(perMinute.size).toBe(30);
    expect(Math.max(...perMinute.values())).toBeLessThan(60);
    // Stable: a restart keeps each instance's point.
    const again = fakeQueue();
    await scheduleBackfills(again, ids, { intervalMinutes: 30, windowMinutes: 1440 });
    expect([...again.offsets.values()]).toEqual([...queue.offsets.values()]);
  });

  it.each([
    [0, 1440],
    [30, 0],
  ])(
    'interval %i / window %i removes every reconcile scheduler',
    async (intervalMinutes, windowMinutes) => {
      const queue = fakeQueue(['reconcile-1', 'reconcile-2']);
      const result = await scheduleBackfills(queue, [{ idInstance: '1' }], {
        intervalMinutes,
        windowMinutes,
      });
      expect(result).toEqual({
        scheduled: [],
        removed: ['reconcile-1', 'reconcile-2'],
        moved: [],
      });
      expect(queue.schedulers.size).toBe(0);
    },
  );
});
