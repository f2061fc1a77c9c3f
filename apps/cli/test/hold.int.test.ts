import { generateKeyPairSync } from 'node:crypto';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { holdsPrefix } from '@archiver/core';
import {
  auditPrefix,
  createCustodyLog,
  createCustodyStore,
  custodyKeys,
  parseAuditRecord,
} from '@archiver/custody';
import { startObjectLockProxy, versionKey, type ObjectLockProxy } from '@archiver/testkit';
import { runCli } from '../src/cli.js';
import { listKeys } from '../src/sidecars.js';
import {
  captureIo,
  createContext,
  envOf,
  MAX,
  putArchived,
  putFailure,
  putRecorded,
  seconds,
  WA,
  type TestContext,
} from './helpers.js';

const pem = generateKeyPairSync('ed25519')
  .privateKey.export({ type: 'pkcs8', format: 'pem' })
  .toString();
const CHAT_A = '71234567890@c.us';
const CHAT_B = '79990001122@c.us';
const bytes = Buffer.alloc(512, 7);

let ctx: TestContext | undefined;
let proxy: ObjectLockProxy | undefined;
afterEach(async () => {
  await ctx?.close();
  proxy?.close();
  ctx = undefined;
  proxy = undefined;
});

/** A context whose S3 client and configuration go through a proxy answering like AWS. */
async function lockedContext(name: string) {
  proxy = await startObjectLockProxy(inject('s3').endpoint);
  ctx = createContext(name, {
    S3_ENDPOINT: proxy.url,
    HOLD_REFRESH_SECONDS: '0.2',
    SEAL_SIGNING_KEY: pem,
  });
  return { ctx, proxy };
}

async function run(c: TestContext, ...argv: string[]) {
  const io = captureIo();
  const code = await runCli(argv, { ...envOf(c), SEAL_SIGNING_KEY: pem }, io, c.factory);
  return { code, ...io.text };
}

/** Objects of two chats of WA and one chat of MAX; returns each chat's keys. */
async function seed(c: TestContext) {
  const at = seconds('2026-11-03T10:00:00Z');
  const m = (idInstance: string, kind: 'whatsapp' | 'max', chatId: string, idMessage: string) => ({
    idInstance,
    kind,
    chatId,
    idMessage,
    timestamp: at,
  });
  const a1 = await putArchived(c, m(WA, 'whatsapp', CHAT_A, 'A1'), bytes);
  const a2 = await putRecorded(c, m(WA, 'whatsapp', CHAT_A, 'A2'), 'textMessage');
  const b1 = await putArchived(c, m(WA, 'whatsapp', CHAT_B, 'B1'), bytes);
  const x1 = await putArchived(c, m(MAX, 'max', CHAT_A, 'X1'), bytes);
  return {
    chatA: [a1.fileKey, a1.sidecarKey, a2.sidecarKey].sort(),
    chatB: [b1.fileKey, b1.sidecarKey].sort(),
    other: [x1.fileKey, x1.sidecarKey].sort(),
  };
}

/** The keys PutObjectLegalHold was sent for with `status` since `from`. */
function putsOf(p: ObjectLockProxy, status: string, from = 0): string[] {
  return [
    ...new Set(
      p.legalHoldPuts
        .slice(from)
        .filter((x) => x.status === status)
        .map((x) => x.key),
    ),
  ].sort();
}

async function auditRecords(c: TestContext) {
  const store = createCustodyStore(c.deps.s3, { bucket: c.bucket, prefix: c.s3Prefix });
  const out = [];
  for await (const key of listKeys(c.deps.s3, c.bucket, auditPrefix(c.s3Prefix))) {
    out.push({ key, record: parseAuditRecord((await store.get(key)) ?? Buffer.alloc(0)) });
  }
  return out;
}

describe('archiver hold', () => {
  it('set on a chat puts the legal hold ON on exactly its objects, and the custody log says who and why', async () => {
    const { ctx: c, proxy: p } = await lockedContext('hold-set');
    const keys = await seed(c);

    const set = await run(
      c,
      'hold',
      'set',
      '--instance',
      WA,
      '--chat',
      CHAT_A,
      '--reason',
      'litigation 2026-114',
      '--actor',
      'alice',
    );
    expect(set.err).not.toContain('failed');
    expect(set.code).toBe(0);
    expect(set.out).toContain('3 object versions ON');
    expect(putsOf(p, 'ON')).toEqual(keys.chatA);
    for (const key of [...keys.chatB, ...keys.other]) expect(p.legalHolds.get(key)).toBe('OFF');

    const list = await run(c, 'hold', 'list', '--json');
    expect(list.code).toBe(0);
    expect(JSON.parse(list.out)).toMatchObject([
      {
        action: 'set',
        actor: 'alice',
        reason: 'litigation 2026-114',
        selection: { idInstance: WA, chatId: CHAT_A },
      },
    ]);

    const audits = await auditRecords(c);
    expect(audits.map((a) => a.record)).toMatchObject([
      {
        action: 'hold-set',
        actor: 'alice',
        reason: 'litigation 2026-114',
        selection: { idInstance: WA, chatId: CHAT_A },
        result: { objects: 3 },
      },
    ]);
    // Both the audit record and the hold's own record are entries of the custody log.
    const log = createCustodyLog(c.deps.redis, custodyKeys(c.queuePrefix));
    const entered = (await log.pending(100)).map((e) => e.entry.key);
    expect(entered).toContain(audits[0]?.key);
    expect(entered.some((k) => k.startsWith(holdsPrefix(c.s3Prefix)))).toBe(true);
  });

  it('clear puts OFF, but not on objects another active hold still covers', async () => {
    const { ctx: c, proxy: p } = await lockedContext('hold-clear');
    const keys = await seed(c);
    const hold = (action: string, reason: string, ...sel: string[]) =>
      run(c, 'hold', action, '--instance', WA, ...sel, '--reason', reason, '--actor', 'bob');

    expect((await hold('set', 'whole instance')).code).toBe(0);
    expect(putsOf(p, 'ON')).toEqual([...keys.chatA, ...keys.chatB].sort());
    expect((await hold('set', 'one chat', '--chat', CHAT_A)).code).toBe(0);

    // The chat's hold goes, the instance's stays: nothing of chat A is turned OFF.
    let from = p.legalHoldPuts.length;
    const clearChat = await hold('clear', 'chat matter settled', '--chat', CHAT_A);
    expect(clearChat.code).toBe(0);
    expect(clearChat.out).toContain('0 object versions OFF, 3 still held by another hold');
    expect(putsOf(p, 'OFF', from)).toEqual([]);
    for (const key of keys.chatA) expect(p.legalHolds.get(key)).toBe('ON');

    from = p.legalHoldPuts.length;
    const clearAll = await hold('clear', 'instance matter settled');
    expect(clearAll.code).toBe(0);
    expect(putsOf(p, 'OFF', from)).toEqual([...keys.chatA, ...keys.chatB].sort());
    for (const key of [...keys.chatA, ...keys.chatB]) expect(p.legalHolds.get(key)).toBe('OFF');

    expect((await run(c, 'hold', 'list')).out).toBe('no active legal holds\n');
    const audits = (await auditRecords(c)).map((a) => a.record);
    expect(audits.map((a) => [a.action, a.actor, a.reason])).toEqual([
      ['hold-set', 'bob', 'whole instance'],
      ['hold-set', 'bob', 'one chat'],
      ['hold-clear', 'bob', 'chat matter settled'],
      ['hold-clear', 'bob', 'instance matter settled'],
    ]);

    // Nothing left to clear: said, and nothing written.
    const again = await hold('clear', 'twice');
    expect(again.code).toBe(2);
    expect(again.err).toContain('no active hold');
    expect(await auditRecords(c)).toHaveLength(4);
  });

  it('holds what is written while the hold is being set (the catch-up pass)', async () => {
    const { ctx: c, proxy: p } = await lockedContext('hold-catchup');
    await seed(c);
    const setting = run(c, 'hold', 'set', '--instance', WA, '--chat', CHAT_A, '--reason', 'r');
    // Once the first pass is through the chat, a worker that has not read the new hold yet
    // writes into it without the hold.
    await expect.poll(() => putsOf(p, 'ON').length, { timeout: 10_000 }).toBe(3);
    const late = await putArchived(
      c,
      {
        idInstance: WA,
        kind: 'whatsapp',
        chatId: CHAT_A,
        idMessage: 'LATE',
        timestamp: seconds('2026-11-04T00:00:00Z'),
      },
      bytes,
    );
    expect((await setting).code).toBe(0);
    expect(p.legalHolds.get(late.fileKey)).toBe('ON');
    expect(p.legalHolds.get(late.sidecarKey)).toBe('ON');
  });

  it('holds every version of a key, the failure record an archived file replaced too, and clear lifts them all', async () => {
    const { ctx: c, proxy: p } = await lockedContext('hold-versions');
    const m = {
      idInstance: WA,
      kind: 'whatsapp' as const,
      chatId: CHAT_A,
      idMessage: 'V1',
      timestamp: seconds('2026-11-03T10:00:00Z'),
    };
    // The download failed at first, then the file was had: the sidecar has two versions.
    await putFailure(c, m, 'permanent_failure', 'file_not_found');
    const keys = await putArchived(c, m, bytes);
    const sidecarVersions = (p.versions.get(keys.sidecarKey) ?? []).map((v) => v.versionId);
    expect(sidecarVersions).toHaveLength(2);
    const held = (status: string) =>
      [keys.fileKey, keys.sidecarKey]
        .flatMap((key) =>
          (p.versions.get(key) ?? []).map((v) => p.versionHolds.get(versionKey(key, v.versionId))),
        )
        .every((s) => s === status);

    const set = await run(c, 'hold', 'set', '--instance', WA, '--chat', CHAT_A, '--reason', 'r');
    expect(set.code).toBe(0);
    expect(set.out).toContain('3 object versions ON');
    expect(held('ON')).toBe(true);
    // Each version by its id (the catch-up pass puts the recent ones again).
    const putVersions = new Set(
      p.legalHoldPuts.filter((x) => x.key === keys.sidecarKey).map((x) => x.versionId),
    );
    expect([...putVersions].sort()).toEqual([...sidecarVersions].sort());

    const clear = await run(
      c,
      'hold',
      'clear',
      '--instance',
      WA,
      '--chat',
      CHAT_A,
      '--reason',
      'r',
    );
    expect(clear.code).toBe(0);
    expect(clear.out).toContain('3 object versions OFF');
    expect(held('OFF')).toBe(true);
  });

  it('on s3rver, which has no Object Lock, says so and changes nothing', async () => {
    ctx = createContext('hold-plain', { SEAL_SIGNING_KEY: pem });
    const c = ctx;
    await seed(c);
    const before = [];
    for await (const key of listKeys(c.deps.s3, c.bucket, c.s3Prefix)) before.push(key);

    for (const action of ['set', 'clear']) {
      const r = await run(c, 'hold', action, '--instance', WA, '--reason', 'matter 9');
      expect(r.code).toBe(2);
      expect(r.err).toContain('has no S3 Object Lock');
      expect(r.err).toContain('nothing was changed');
    }
    const after = [];
    for await (const key of listKeys(c.deps.s3, c.bucket, c.s3Prefix)) after.push(key);
    expect(after).toEqual(before);
    const log = createCustodyLog(c.deps.redis, custodyKeys(c.queuePrefix));
    expect(await log.waiting()).toBe(0);
  });

  it('refuses a set or clear without a reason, and a reason that hides characters', async () => {
    ctx = createContext('hold-usage');
    const c = ctx;
    const none = await run(c, 'hold', 'set', '--instance', WA);
    expect(none.code).toBe(2);
    expect(none.err).toContain('--reason is required');
    const hidden = await run(c, 'hold', 'clear', '--instance', WA, '--reason', 'ok\u202eko');
    expect(hidden.code).toBe(2);
    expect(hidden.err).toContain('--reason');
    const bad = await run(c, 'hold', 'set', '--instance', 'abc', '--reason', 'x');
    expect(bad.code).toBe(2);
    expect(bad.err).toContain('--instance');
  });
});
