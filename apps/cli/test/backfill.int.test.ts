import { archiveJobId } from '@archiver/core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../src/cli.js';
import { runBackfill } from '../src/commands/backfill.js';
import { startFakeGreenApi, type FakeGreenApi } from '../../../packages/testkit/src/index.js';
import { createContext, envOf, type TestContext } from './helpers.js';

const ID = '1101000077';
const TOKEN = 'backfill-token-secret';
const ANN = '79001234567@c.us';

describe('archiver backfill', () => {
  let fake: FakeGreenApi;
  let ctx: TestContext;

  beforeAll(async () => {
    fake = await startFakeGreenApi();
    fake.addInstance({ idInstance: ID, apiTokenInstance: TOKEN, kind: 'whatsapp' });
  });

  afterAll(async () => {
    await fake.close();
  });

  beforeEach(() => {
    ctx = createContext('backfill', {
      GREEN_API_INSTANCES: JSON.stringify([
        { idInstance: ID, apiTokenInstance: TOKEN, apiUrl: fake.url, kind: 'whatsapp' },
      ]),
    });
  });

  afterEach(async () => {
    await ctx.close();
  });

  it('enqueues journal files not yet known, then finds them already known', async () => {
    const now = Math.floor(Date.now() / 1000);
    fake.addFile({
      idInstance: ID,
      chatId: ANN,
      idMessage: 'J-IN-1',
      direction: 'incoming',
      timestamp: now - 120,
      size: 64,
    });
    fake.addFile({
      idInstance: ID,
      chatId: ANN,
      idMessage: 'J-OUT-1',
      direction: 'outgoing',
      timestamp: now - 60,
      size: 64,
    });

    const code = await runCli(
      ['backfill', '--instance', ID, '--minutes', '30'],
      { ...envOf(ctx), GREEN_API_ID_INSTANCE: ID },
      ctx.io,
      ctx.factory,
    );
    expect(code).toBe(0);
    expect(ctx.io.text.out).toMatch(/files found\s+2/);
    expect(ctx.io.text.out).toMatch(/enqueued\s+2/);
    expect(ctx.io.text.err).toContain('backfill 1101000077');
    for (const idMessage of ['J-IN-1', 'J-OUT-1']) {
      expect((await ctx.deps.queue.getJob(archiveJobId(ID, ANN, idMessage)))?.data.source).toBe(
        'journal',
      );
    }

    const again = await runBackfill(ctx.deps, { idInstance: ID, minutes: 30 });
    expect(again).toMatchObject({ found: 2, alreadyKnown: 2, enqueued: 0 });
  });

  it('reads one chat with --chat and --count', async () => {
    const now = Math.floor(Date.now() / 1000);
    for (const n of [1, 2, 3]) {
      fake.addFile({
        idInstance: ID,
        chatId: 'chat-3@c.us',
        idMessage: `H-${n}`,
        direction: 'incoming',
        timestamp: now - n * 10,
        size: 16,
      });
    }
    const summary = await runBackfill(ctx.deps, {
      idInstance: ID,
      chatId: 'chat-3@c.us',
      count: 2,
    });
    expect(summary).toMatchObject({ mode: 'chat', found: 2, enqueued: 2 });
    expect(await ctx.deps.queue.count()).toBe(2);
  });

  it('refuses an instance that is not configured (exit 2)', async () => {
    const code = await runCli(
      ['backfill', '--instance', '999'],
      { ...envOf(ctx), GREEN_API_ID_INSTANCE: ID },
      ctx.io,
      ctx.factory,
    );
    expect(code).toBe(2);
    expect(ctx.io.text.err).toContain('999 is not a configured instance');
  });
});
