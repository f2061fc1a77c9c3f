import { UnrecoverableError, type Job } from 'bullmq';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import {
  createBackfill,
  type BackfillSummary,
  type InstanceConfig,
  type JobWriter,
  type RateLimiter,
} from '@archiver/core';
import { createGreenApiClient } from '@archiver/greenapi';
import { createReconcileProcessor } from './reconcile.js';

const instance: InstanceConfig = {
  idInstance: '1101000001',
  apiTokenInstance: 'token-abcdef',
  apiUrl: 'https://api.example.test',
  kind: 'max',
  delivery: 'webhook',
};

/** Empty journals at the fetch level: the real client parses what it answers. */
const emptyJournals: typeof fetch = () => Promise.resolve(Response.json([]));

const writer: JobWriter = {
  write: () => Promise.reject(new Error('an empty journal writes nothing')),
};

const limiter: RateLimiter = {
  acquire: () => Promise.resolve({ go: true, waitMs: 0, slotAt: 0 }),
  admitted: (_id, _method, _rps, send) => send(),
  penalize: () => Promise.resolve(0),
};

describe('createReconcileProcessor', () => {
  const job = (data: unknown) =>
    ({ data, updateProgress: () => Promise.resolve() }) as unknown as Job<
      unknown,
      BackfillSummary,
      string
    >;
  const processor = createReconcileProcessor(
    createBackfill({
      writer,
      records: { write: () => Promise.reject(new Error('no journal entries here')) },
      recorded: { keepMs: 0, add: () => Promise.resolve(), known: () => Promise.resolve([]) },
      limiter,
      clientFor: (i) =>
        createGreenApiClient({ ...i, kind: i.kind ?? 'whatsapp' }, { fetch: emptyJournals }),
      instances: new Map([[instance.idInstance, instance]]),
      retentionDays: 15,
      logger: pino({ level: 'silent' }),
    }),
  );

  it('runs a valid request', async () => {
    await expect(
      processor(job({ idInstance: instance.idInstance, minutes: 60 })),
    ).resolves.toMatchObject({ mode: 'journal' });
  });

  it.each([
    [{}],
    [{ idInstance: 'abc' }],
    [{ idInstance: '1', minutes: -1 }],
    [{ idInstance: '1', chatId: '' }],
    ['x'],
  ])('fails %j at once', async (data) => {
    await expect(processor(job(data))).rejects.toBeInstanceOf(UnrecoverableError);
  });

  it('fails an unknown instance at once', async () => {
    await expect(processor(job({ idInstance: '42' }))).rejects.toBeInstanceOf(UnrecoverableError);
  });
});
